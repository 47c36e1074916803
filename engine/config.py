"""Settings from the environment: ``AFTERSALES_*`` variables and ``DATABASE_URL``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError

DEFAULT_DB_FILE = "aftersales.sqlite3"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    """Engine settings; build with :func:`load_settings`."""

    database_url: str = field(default_factory=lambda: f"sqlite:///{Path.cwd() / DEFAULT_DB_FILE}")
    processes_dir: Path = field(default_factory=lambda: Path.cwd() / "processes")
    handler_max_attempts: int = 3
    handler_backoff_seconds: int = 30
    instance_cache_size: int = 256
    worker_poll_seconds: int = 2
    worker_batch_size: int = 50


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, then apply ``overrides``."""
    values: dict[str, object] = {}
    if os.environ.get("DATABASE_URL"):
        values["database_url"] = os.environ["DATABASE_URL"]
    if os.environ.get("AFTERSALES_PROCESSES_DIR"):
        values["processes_dir"] = Path(os.environ["AFTERSALES_PROCESSES_DIR"])
    values["handler_max_attempts"] = _int("AFTERSALES_HANDLER_MAX_ATTEMPTS", 3)
    values["handler_backoff_seconds"] = _int("AFTERSALES_HANDLER_BACKOFF_SECONDS", 30)
    values["instance_cache_size"] = _int("AFTERSALES_INSTANCE_CACHE_SIZE", 256)
    values["worker_poll_seconds"] = _int("AFTERSALES_WORKER_POLL_SECONDS", 2)
    values["worker_batch_size"] = _int("AFTERSALES_WORKER_BATCH_SIZE", 50)
    values.update(overrides)
    settings = Settings(**values)  # type: ignore[arg-type]
    if settings.handler_max_attempts < 1:
        raise ConfigError("AFTERSALES_HANDLER_MAX_ATTEMPTS must be at least 1")
    return settings
