"""Bring the database to the newest schema with the one Alembic chain in ``migrations/``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from settings import get_settings

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url or get_settings().sqlalchemy_url)
    return cfg


def upgrade(url: str | None = None) -> None:
    settings = get_settings()
    if url is None and settings.sqlalchemy_url.startswith("sqlite"):
        settings.home.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), "head")
