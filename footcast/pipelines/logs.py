"""The logger the `footcast` command runs its Dagster runs with.

Dagster's console logger prints every event of a run, and a failed step as its whole stack
trace; the command line promises one clear line per error instead (the run's full event log
stays in the instance, where the UI shows it). This logger prints only what the assets
themselves log (``context.log``), one message per line, at ``log_level`` or above, short of
errors: a failed run is reported by the command, once. ``footcast --debug`` runs with Dagster's
console logger instead.
"""

from __future__ import annotations

import logging
import sys

import dagster as dg

from footcast.pipelines.dagster_private import get_log_record_metadata, has_log_record_metadata


class _AssetMessages(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR or not has_log_record_metadata(record):
            return False
        metadata = get_log_record_metadata(record)
        if metadata["dagster_event"] is not None:  # (step started, output, materialization, ...)
            return False
        record.msg, record.args = metadata["orig_message"], ()
        return True


@dg.logger(
    config_schema={"log_level": dg.Field(str, default_value="WARNING", is_required=False)},
    description="what the assets log, one line per message on stderr, errors left to the caller",
)
def terminal_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.Logger("footcast.run", level=init_context.logger_config["log_level"])
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_AssetMessages())
    handler.setFormatter(logging.Formatter("  %(message)s"))
    logger.addHandler(handler)
    return logger


LOGGERS = {"console": dg.colored_console_logger, "terminal": terminal_logger}


def run_config(log_level: str = "WARNING", debug: bool = False) -> dict:
    """The ``loggers`` part of a run config for a run the command line executes."""
    if debug:
        return {"loggers": {"console": {"config": {"log_level": "DEBUG"}}}}
    return {"loggers": {"terminal": {"config": {"log_level": log_level}}}}
