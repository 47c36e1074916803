"""Alembic environment: every table of engine, handlers and analytics lives on ``engine.db.Base``."""

from alembic import context
from sqlalchemy import pool

import engine.apikeys  # noqa: F401  (its table)
import engine.drafts  # noqa: F401  (its tables)
import engine.pilots  # noqa: F401  (its tables)
from engine.db import Base, create_engine
from engine.models import *  # noqa: F403  (register the engine's tables)
from engine.registry import load_handlers

load_handlers()  # handler and analytics modules register their own tables

# Full-text search objects are written by hand in the migrations (SQLite FTS5, PostgreSQL GIN)
HAND_WRITTEN = ("knowledge_article_fts", "ix_knowledge_article_search")


def include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    """Keep autogenerate away from the hand-written full-text search objects."""
    return not (name and name.startswith(HAND_WRITTEN))

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    """Emit SQL without a database connection."""
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True, include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run migrations against the configured database."""
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                          include_object=include_object)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
