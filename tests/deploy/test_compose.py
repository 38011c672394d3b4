"""docker-compose.yml: every service restarts when it dies and reports its health."""

from pathlib import Path
from typing import Any

import pytest
import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
ONE_SHOT = {"migrate"}  # runs once and exits 0: never restarted, no health to report
RESTARTING = {"always", "unless-stopped", "on-failure"}


def _services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = yaml.safe_load(COMPOSE.read_text())["services"]
    return services


def test_the_stack_has_its_services() -> None:
    assert set(_services()) == {"postgresql", "temporal", "temporal-ui", "migrate", "api", "worker"}


@pytest.mark.parametrize("name", sorted(set(_services()) - ONE_SHOT))
def test_a_long_running_service_restarts_and_has_a_healthcheck(name: str) -> None:
    service = _services()[name]

    assert service.get("restart") in RESTARTING
    check = service.get("healthcheck", {})
    assert not check.get("disable", False)
    assert check["test"][0] in {"CMD", "CMD-SHELL"}
    assert len(check["test"]) > 1
    assert {"interval", "timeout", "retries"} <= set(check)


def test_the_one_shot_migration_is_never_restarted() -> None:
    assert _services()["migrate"]["restart"] == "no"


def test_the_worker_check_reads_the_heartbeat_file_the_worker_writes() -> None:
    worker = _services()["worker"]

    assert worker["healthcheck"]["test"] == ["CMD", "python", "worker.py", "--check"]
    assert worker["environment"]["WORKER_HEARTBEAT_FILE"]
    assert worker["command"] == ["python", "worker.py"]
