"""Database engine and sessions (synchronous SQLModel over psycopg 3)."""

from sqlalchemy import Engine, create_engine, text


def normalize_url(url: str) -> str:
    """Use the psycopg 3 driver whatever scheme the URL was given with."""
    for prefix in ("postgresql+psycopg2://", "postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


# Every session reads and writes instants in UTC, whatever the server's or the database's
# default zone: JSON answers and CSV exports then spell the same instant the same way
# (`+00:00`), and SQL that formats an instant needs no zone of its own (decision 0102).
UTC_SESSIONS = {"options": "-c TimeZone=UTC"}


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine for `url` that survives a restarted database (pre-ping), its sessions in UTC."""
    return create_engine(
        normalize_url(url),
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args=UTC_SESSIONS,
    )


def ping(engine: Engine) -> None:
    """Raise unless the database answers."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
