"""The environment every command runs in: FOOTCAST_HOME, and the Dagster instance the UI reads."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

REPO_DAGSTER_YAML = Path(__file__).resolve().parents[2] / "dagster.yaml"


def prepare_environment() -> Path:
    """FOOTCAST_HOME and DAGSTER_HOME (under it by default), with the instance config in place."""
    from footcast import config

    home = config.home()
    os.environ["FOOTCAST_HOME"] = str(home)
    dagster_home = config.dagster_home()
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    instance_yaml = dagster_home / "dagster.yaml"
    if not instance_yaml.exists() and REPO_DAGSTER_YAML.exists():
        shutil.copyfile(REPO_DAGSTER_YAML, instance_yaml)
    return home
