"""Alembic environment: the URL comes from the caller or DATABASE_URL, tables from models."""

from alembic import context
from sqlalchemy import create_engine
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table on SQLModel.metadata)
from core.db import normalize_url
from core.settings import get_settings

config = context.config


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    if not url:
        raise RuntimeError("set DATABASE_URL (or pass sqlalchemy.url) to run migrations")
    return normalize_url(url)


def run_migrations_online() -> None:
    """Migrate over one connection, in one transaction."""
    engine = create_engine(_url())
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=SQLModel.metadata, compare_type=True
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
