"""The objects a process shares between requests and commands: database and runtime."""

from __future__ import annotations

from dataclasses import dataclass

from engine.config import Settings, load_settings
from engine.db import Database
from engine.runtime import Runtime


@dataclass
class Services:
    """A database and a runtime, built once per process."""

    settings: Settings
    db: Database
    runtime: Runtime

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Services:
        """Build the services from settings (default: the environment)."""
        settings = settings or load_settings()
        return cls(settings, Database(settings.database_url), Runtime(settings))
