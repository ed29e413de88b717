"""The settings every worker reads from the environment (FOOTCAST_REDIS_URL, FOOTCAST_REDIS_PREFIX,
FOOTCAST_API_KEYS, FOOTCAST_CORS_ORIGINS)."""

import os
from dataclasses import dataclass

from footcast import config


class ServeConfigError(ValueError):
    """The server cannot start with these settings (bad usage)."""


def split_list(value: str | None) -> tuple[str, ...]:
    """The items of a comma-separated setting, stripped; none when unset or blank."""
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    redis_url: str
    prefix: str
    api_keys: tuple[str, ...]
    cors_origins: tuple[str, ...]

    @classmethod
    def from_env(cls) -> "Settings":
        url = config.redis_url()
        if not url:
            raise ServeConfigError(
                "FOOTCAST_REDIS_URL is not set (footcast serve starts the embedded server and sets it)"
            )
        return cls(
            redis_url=url,
            prefix=os.environ.get("FOOTCAST_REDIS_PREFIX") or "footcast",
            api_keys=split_list(os.environ.get("FOOTCAST_API_KEYS")),
            cors_origins=split_list(os.environ.get("FOOTCAST_CORS_ORIGINS")),
        )
