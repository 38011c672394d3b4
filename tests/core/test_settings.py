"""Settings from container secrets: a file per setting under the secrets directory, the
environment winning over it (docs/operations.md#configuration)."""

from pathlib import Path

import pytest

from core.settings import Settings


def test_a_secret_file_fills_its_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("AUTH_SECRET", raising=False)
    (tmp_path / "database_url").write_text("postgresql+psycopg://casework:pw@db:5432/casework\n")
    (tmp_path / "auth_secret").write_text("s3cret")

    settings = Settings(_secrets_dir=tmp_path)

    assert settings.database_url == "postgresql+psycopg://casework:pw@db:5432/casework"
    assert settings.auth_secret == "s3cret"


def test_the_environment_wins_over_a_secret_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "auth_secret").write_text("from-file")
    monkeypatch.setenv("AUTH_SECRET", "from-env")

    assert Settings(_secrets_dir=tmp_path).auth_secret == "from-env"
