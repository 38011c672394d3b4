"""Every session the service opens reads instants in UTC, whatever the database's default zone."""

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, create_engine, text

from core.db import make_engine, normalize_url
from core.pg import drop_database, ensure_database

ZONES = ["America/St_Johns", "Asia/Kolkata", "Pacific/Chatham", "UTC"]


@pytest.fixture
def zoned(pg_admin_url: str, request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """A database whose own default zone is the test's parameter."""
    name = f"zone_{abs(hash(request.node.name)) % 10**8}"
    url = ensure_database(pg_admin_url, name)
    admin = create_engine(normalize_url(pg_admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"ALTER DATABASE {name} SET TimeZone = '{request.param}'"))
    admin.dispose()
    yield url, request.param
    drop_database(pg_admin_url, name)


def _read(engine: Engine) -> tuple[str, datetime]:
    with engine.connect() as connection:
        zone = connection.execute(text("SHOW TimeZone")).scalar_one()
        at = connection.execute(
            text("SELECT CAST('2026-03-29 00:30:00+00' AS timestamptz)")
        ).scalar_one()
    return zone, at


@pytest.mark.parametrize("zoned", ZONES, indirect=True)
def test_sessions_read_instants_in_utc(zoned: tuple[str, str]) -> None:
    zoned_url, database_default = zoned
    plain = create_engine(normalize_url(zoned_url))
    service = make_engine(zoned_url)
    try:
        zone, at = _read(service)
        database_zone, database_at = _read(plain)
    finally:
        plain.dispose()
        service.dispose()
    assert zone == "UTC"
    assert at.utcoffset() == timedelta(0)
    assert at.isoformat() == "2026-03-29T00:30:00+00:00"
    # A session that does not pin its zone spells the same instant in the database's zone.
    assert database_zone == database_default
    assert database_at == at
    assert database_at.utcoffset() == database_at.astimezone(ZoneInfo(database_default)).utcoffset()
