"""Alembic environment: pdw's one migration chain, run by ``pdw setup`` and ``pdw dev``."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table on SQLModel.metadata)
from activities.store import engine_for

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    eng = engine_for(config.get_main_option("sqlalchemy.url"))
    with eng.connect() as connection:
        if connection.dialect.name == "sqlite":
            # SQLite rebuilds a table to alter it; foreign keys must not block the rebuild.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
