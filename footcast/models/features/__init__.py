"""Point-in-time features of every played match and upcoming fixture.

:func:`~footcast.models.features.builder.build_features` turns canonical rows
(:mod:`footcast.data.schema`) into one feature row per match/fixture. Plain Python/numpy/pandas;
no dagster.

Point-in-time rules
-------------------
- Rows are put in a total order ``(kickoff, match_id)``; input row order never matters.
- Every feature of a row uses only matches with a kickoff strictly before the row's kickoff.
  Rows with the same kickoff timestamp are simultaneous: features are computed for the whole
  group first, then the group's results update the state, so none sees another's result.
- Only *played* rows (a row of ``matches`` with both full-time goals) change any state.
  Fixtures (and played-file rows without a score) are rows with no result: they get features
  by the same code path and change nothing, so a fixture's features equal the features the
  same match gets once it is in the history, provided every match kicking off before it has
  been played by then (features of fixtures further ahead change as results come in). A
  fixture whose ``match_id`` is also among the played matches is dropped. ``(kickoff,
  match_id)`` must be unique; the same ``match_id`` at two kickoffs is accepted.
- The bookmaker prices of a match are published before its kickoff, so the match's own
  *opening* prices are legitimate inputs. Closing prices are stored only as an evaluation
  baseline (``MARKET_BASELINE_COLUMNS``) and never enter ``MODEL_FEATURES``.
- Teams are keyed by name; all ratings carry across seasons and leagues.
- Every value of a row is computed row-locally (no cross-row float reductions, fixed-iteration
  solvers, integer cumulative sums for the rolling windows), so rows before a time T are
  bit-for-bit unchanged by anything at or after T (tested in ``tests/models/test_features.py``).

The features themselves (names, definitions, the column lists) are documented in
:mod:`footcast.models.features.columns`. The builder assembles them from one module per kind of
computation: ``sequential`` (ratings), ``form``, ``table``, ``xg`` (expected goals, from the
optional ``xg`` input joined by ``match_id``), ``market``, after ``inputs``.
"""
