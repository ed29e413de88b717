"""Asset definitions, one module per layer (thin: they call domain code)."""

import warnings

import dagster as dg

# raw and validated declare a BackfillPolicy, a beta parameter in Dagster 1.13. Dagster is pinned
# and the tests cover the behaviour relied on; the warning would otherwise greet every command.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)
