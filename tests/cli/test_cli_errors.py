"""Bad input exits 2 and an unreachable dependency 3, each with one line, never a traceback."""

import tomllib
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.cli.conftest import invoke, one_line_error
from tests.support.infra import free_port

ROOT = Path(__file__).resolve().parents[2]


def _nowhere() -> dict[str, str]:
    """Settings that point at a PostgreSQL and a Temporal nobody runs."""
    return {
        "DATABASE_URL": f"postgresql+psycopg://casework@127.0.0.1:{free_port()}/casework",
        "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
    }


def test_version_names_this_source_and_the_sdk() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]

    result = invoke(_nowhere(), "--version")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"casework {declared} (temporalio ")


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["token", "--sub", "a", "--role", "nope"], "no role 'nope'; the roles are ["),
        (["export-report", "grades"], "no report 'grades'"),
        (["sync", "--template", "has space"], "not a template code"),
        (["cases", "find", "--kind", "case"], "no kind 'case'"),
        (["cases", "find", "--waiting-on", "boss"], "no party 'boss'"),
        (["cases", "find", "--execution", "running"], "no execution status 'running'"),
        (["cases", "find", "--applicant", "a' OR 'x"], "is not an id, code or status"),
        (["cases", "find", "--status", "OPEN)"], "is not an id, code or status"),
        (["cases", "find", "--release-before", "2026-12-01T09:00:00"], "with its zone"),
        (["release", "--kind", "result"], "--now or --at"),
        (["release", "--now", "--at", "2099-01-01T00:00:00Z"], "one of them"),
        (["release", "--at", "2020-01-01T00:00:00Z"], "refused: "),
        (["release", "--at", "next tuesday"], "bad input"),
        (["release", "--now", "--kind", "grade"], "no kind 'grade'"),
        (["release", "--now", "--filter", "provider_id=a b"], "provider_id"),
        (["release", "--now", "--filter", "grade=PASS"], "not a filter: 'grade=PASS'"),
        (["release", "--now", "--filter", "from=yesterday"], "from_at"),
        (["release", "--now", "--ids", "/nonexistent/ids.csv"], "cannot read /nonexistent"),
        (["reconcile", "--bogus"], "No such option: --bogus"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], complaint: str) -> None:
    result = invoke(_nowhere(), *args)

    assert result.exit_code == 2, result.output
    assert complaint in one_line_error(result)


@pytest.mark.parametrize(
    "args",
    [
        ["sync"],
        ["cases", "find", "--kind", "application"],
        ["schedule-sync", "--cron", "0 2 * * *"],
        ["reconcile"],
    ],
)
def test_an_unreachable_temporal_exits_3_with_one_line(args: list[str]) -> None:
    env = _nowhere()

    result = invoke(env, *args)

    assert result.exit_code == 3, result.output
    line = one_line_error(result)
    assert f"Temporal at {env['TEMPORAL_ADDRESS']} is unreachable" in line


@pytest.mark.parametrize(
    "args",
    [
        ["export-report", "sla", "--out", "/dev/null"],
        ["backfill-legacy-releases"],
        ["release", "--now", "--kind", "result"],
    ],
)
def test_an_unreachable_postgresql_exits_3_with_one_line(args: list[str]) -> None:
    result = invoke(_nowhere(), *args)

    assert result.exit_code == 3, result.output
    assert "PostgreSQL is unreachable" in one_line_error(result)


def test_a_case_named_by_an_id_of_no_kind_of_case_exits_2(
    database_url: str, dev_env: WorkflowEnvironment
) -> None:
    target = dev_env.client.service_client.config.target_host
    env = {"DATABASE_URL": database_url, "TEMPORAL_ADDRESS": target}

    result = invoke(env, "case", "show", "no-such-case")

    assert result.exit_code == 2, result.output
    assert "no case with id 'no-such-case'" in one_line_error(result)


def test_a_bad_cron_string_exits_2_with_one_line(dev_env: WorkflowEnvironment) -> None:
    target = dev_env.client.service_client.config.target_host

    result = invoke({"TEMPORAL_ADDRESS": target}, "schedule-sync", "--cron", "every day at 2")

    assert result.exit_code == 2, result.output
    assert "cron" in one_line_error(result).lower()


def test_a_setting_that_does_not_parse_is_named_and_exits_2() -> None:
    result = invoke({**_nowhere(), "API_PORT": "eighty"}, "token", "--sub", "a", "--role", "qa")

    assert result.exit_code == 2, result.output
    assert "bad setting: API_PORT: Input should be a valid integer" in one_line_error(result)
