"""The Alembic migrations create exactly the tables the models describe, on both databases."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import engine
from engine.db import Base
from engine.registry import load_handlers

# Full-text index tables and indexes are maintained by hand-written SQL in the migrations
IGNORED_TABLES = ("knowledge_article_fts", "ix_knowledge_article_search")


def _import_all_models() -> None:
    load_handlers()
    for module in pkgutil.walk_packages(engine.__path__, prefix="engine."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)


# SQLite cannot reflect expression indexes, so autogenerate skips them there (PostgreSQL compares
# them); tests/test_instance_priority_index.py compares ix_instance_priority's SQL on SQLite instead
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index ix_instance_priority")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index 'ix_instance_prio")
def test_migrated_schema_matches_the_models(database):
    _import_all_models()
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diffs = compare_metadata(context, Base.metadata)
    relevant = [d for d in diffs if not any(t in repr(d) for t in IGNORED_TABLES)]
    assert relevant == []
