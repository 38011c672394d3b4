"""The models and the migrated schema agree: autogenerate would write no migration."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table on SQLModel.metadata)


def test_autogenerate_finds_nothing_to_migrate(engine: Engine) -> None:
    """Enum-typed status columns stay VARCHAR(n): no type, index or column differs."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []
