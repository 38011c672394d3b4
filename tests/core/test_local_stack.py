"""A running `make run` stack found by other commands, its dev secret kept, and never used
when the environment names a deployment (decision 0085)."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from core import local_stack
from core.local_stack import LocalStack, dev_secret, find, forget, record
from core.settings import Settings, with_local_stack
from core.stack import _banner

UNSET = ("DATABASE_URL", "TEMPORAL_ADDRESS", "AUTH_SECRET", "API_PORT", "AUTH_JWKS_URL")
URL = "postgresql+psycopg://postgres:@/casework_8100?host=%2Ftmp%2Fa b%2Fpg&x='1'"
SECRET = "a'b c$d and thirty-two characters or more"


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in UNSET:
        monkeypatch.delenv(name, raising=False)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _stack(api_port: int, pid: int | None = None, secret: str | None = "dev-s3cret") -> LocalStack:
    return LocalStack(
        pid=os.getpid() if pid is None else pid,
        api_port=api_port,
        temporal_port=api_port - 900,
        temporal_ui_port=api_port + 100,
        database_url=URL,
        temporal_address=f"127.0.0.1:{api_port - 900}",
        auth_secret=secret,
    )


def test_the_dev_secret_is_made_once_then_kept_readable_by_its_owner_only(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = dev_secret(data)
    again = dev_secret(data)

    assert first == again
    assert len(first) >= 32
    mode = stat.S_IMODE((data / local_stack.DEV_SECRET_FILE).stat().st_mode)
    assert mode == 0o600
    assert dev_secret(tmp_path / "other") != first  # a fresh one only where none is stored
    assert sorted(p.name for p in data.iterdir()) == [local_stack.DEV_SECRET_FILE]


def test_a_running_stack_is_found_and_a_stopped_one_is_not(tmp_path: Path) -> None:
    path = record(tmp_path, _stack(8100))
    record(tmp_path, _stack(8200, pid=_dead_pid()))  # its make run was killed

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert find(tmp_path, 8100) == _stack(8100)
    assert find(tmp_path, 8200) is None
    assert find(tmp_path, None) == _stack(8100)  # the only one running
    assert find(tmp_path, 8000) is None
    forget(tmp_path, 8100)
    assert find(tmp_path, 8100) is None
    assert find(tmp_path, None) is None


def test_with_two_running_and_no_port_asked_for_nothing_is_guessed(tmp_path: Path) -> None:
    record(tmp_path, _stack(8100))
    record(tmp_path, _stack(8200))
    (tmp_path / "stack-8300.json").write_text("{not json")

    assert find(tmp_path, None) is None
    assert find(tmp_path, 8200) == _stack(8200)
    assert find(tmp_path, 8300) is None


def test_settings_fall_back_to_the_running_stack_when_nothing_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record(tmp_path, _stack(8100))

    found = with_local_stack(Settings(data_dir=tmp_path))

    assert found.database_url == URL
    assert found.temporal_address == "127.0.0.1:7200"
    assert found.auth_secret == "dev-s3cret"
    assert (found.api_port, found.temporal_port, found.temporal_ui_port) == (8100, 7200, 8200)
    assert found.api_url() == "http://127.0.0.1:8100"
    monkeypatch.setenv("API_PORT", "8100")
    assert with_local_stack(Settings(data_dir=tmp_path)).database_url == URL
    monkeypatch.setenv("AUTH_SECRET", "mine")
    assert with_local_stack(Settings(data_dir=tmp_path)).auth_secret == "mine"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "postgresql+psycopg://casework@db:5432/casework"),
        ("TEMPORAL_ADDRESS", "temporal:7233"),
        ("API_PORT", "8000"),  # another stack's port
    ],
)
def test_a_deployment_or_another_port_never_reads_the_coordinates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    record(tmp_path, _stack(8100))
    monkeypatch.setenv(name, value)

    settings = with_local_stack(Settings(data_dir=tmp_path))

    assert settings.auth_secret == ""
    assert settings.database_url != URL
    assert settings.api_port != 8100


def test_a_stack_started_with_its_own_secret_does_not_hand_it_out(tmp_path: Path) -> None:
    record(tmp_path, _stack(8100, secret=None))

    settings = with_local_stack(Settings(data_dir=tmp_path))

    assert settings.database_url == URL
    assert settings.auth_secret == ""


def test_the_banner_export_lines_give_a_shell_the_exact_values(
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = {"DATABASE_URL": URL, "TEMPORAL_ADDRESS": "127.0.0.1:7200", "AUTH_SECRET": SECRET}

    _banner(Settings(api_port=8100, temporal_port=7200), env, stored_secret=True)

    exports = [line for line in capsys.readouterr().out.splitlines() if "export " in line]
    assert [line.split("=", 1)[0].strip() for line in exports] == [
        "export DATABASE_URL",
        "export TEMPORAL_ADDRESS",
        "export AUTH_SECRET",
    ]
    script = (
        "\n".join(exports) + '\nprintf "%s\\n" "$DATABASE_URL" "$TEMPORAL_ADDRESS" "$AUTH_SECRET"'
    )
    shell = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    assert shell.stdout.splitlines() == [URL, "127.0.0.1:7200", SECRET]
