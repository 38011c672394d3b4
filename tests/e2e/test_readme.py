"""The README runs as written: its shell blocks, in order, against a stack started as a
newcomer's `make run` would be (no AUTH_SECRET), after the `export` lines it printed; the
commands it names exist; the CLI finds the stack with nothing set; a restart keeps the
admin token it printed working (decision 0085)."""

import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import typer

from cli import app
from tests.e2e.conftest import (
    ROOT,
    Ports,
    kill_everything_under,
    start_stack,
    stop,
    wait_for_line,
)

README = ROOT / "README.md"
SKIP = re.compile(r"^\s*<!-- readme-test: skip: (?P<reason>\S.*?) -->\s*$")
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>\w*)\s*$")
EXPORTS = ["DATABASE_URL", "TEMPORAL_ADDRESS", "AUTH_SECRET"]
BANNER_END = "Ctrl-C stops everything"


@dataclass(frozen=True)
class Block:
    """A fenced block of the README: its language, text (dedented), line, and skip reason."""

    lang: str
    text: str
    line: int
    skip: str | None


def blocks(text: str) -> list[Block]:
    """Every fenced block, with the `readme-test: skip` reason written just above it."""
    found: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent = len(opening["indent"])
        end = index + 1
        while not re.match(rf"^ {{{indent}}}```\s*$", lines[end]):
            end += 1
        above = next((line for line in reversed(lines[:index]) if line.strip()), "")
        marker = SKIP.match(above)
        body = "\n".join(line[indent:] for line in lines[index + 1 : end])
        found.append(Block(opening["lang"], body, index + 1, marker["reason"] if marker else None))
        index = end + 1
    return found


def shell_blocks() -> list[Block]:
    return [block for block in blocks(README.read_text()) if block.lang == "sh"]


def test_every_shell_block_runs_unless_it_says_why_not() -> None:
    text = README.read_text()
    shell = shell_blocks()
    skipped = [block for block in shell if block.skip]

    assert len(re.findall(r"readme-test: skip", text)) == len(skipped)  # none stray
    assert {block.text.split()[0] for block in skipped} <= {"make", "API_PORT=8100", "sh"}
    assert len(shell) - len(skipped) >= 6
    assert "make run" in skipped[0].text


def test_the_readme_names_only_commands_that_exist_and_no_placeholders() -> None:
    text = README.read_text()
    commands = set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    targets = set(re.findall(r"^([A-Za-z][\w-]*):(?!=)", (ROOT / "Makefile").read_text(), re.M))

    named = set(re.findall(r"cli\.py ([a-z][a-z-]*)", text))
    assert named - commands == set()
    assert {"token", "seed-demo", "reconcile", "export-report"} <= named
    made = set(re.findall(r"`make ([a-z][a-z-]*)", text)) | set(
        re.findall(r"^make ([a-z][a-z-]*)", "\n".join(b.text for b in shell_blocks()), re.M)
    )
    assert made - targets == set()
    assert "token" in made
    assert "uuidgen" not in text
    assert "AUTH_SECRET=..." not in text
    assert "<admin token" not in text
    temporal = re.findall(r"temporal (?:workflow|schedule|operator)[^`\n]*(?:\\\n[^`\n]*)*", text)
    assert temporal
    assert [command for command in temporal if "--address" not in command] == []


def _checkout(tmp_path: Path) -> Path:
    """A project root as a newcomer has it: the sources, and `.venv` from `make run`."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in {".venv", ".data", ".git", "releases.csv"}:
            (checkout / entry.name).symlink_to(entry)
    (checkout / ".venv").symlink_to(Path(sys.executable).parent.parent)
    return checkout


def _strict_curl(tmp_path: Path) -> Path:
    """A `curl` first on PATH that fails on an HTTP error, so a 401 cannot pass silently."""
    real = shutil.which("curl")
    assert real, "the README test needs curl"
    folder = tmp_path / "strict-bin"
    folder.mkdir()
    wrapper = folder / "curl"
    wrapper.write_text(f'#!/bin/sh\nexec {real} --fail-with-body "$@"\n')
    wrapper.chmod(0o755)
    return folder


def _banner(log: Path) -> tuple[list[str], str]:
    """The `export` lines and the admin token of the latest banner in `log`."""
    latest = log.read_text(errors="replace").rsplit("Casework is up.", 1)[1]
    exports = re.findall(r"^  (export [A-Z_]+=.*)$", latest, re.M)
    token = re.search(r"admin token \(7 days\): (\S+)", latest)
    assert token, latest
    return exports, token[1]


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _ports(base: str, log: Path) -> Ports:
    text = log.read_text(errors="replace")
    temporal = re.search(r"export TEMPORAL_ADDRESS=127\.0\.0\.1:(\d+)", text)
    ui = re.search(r"Temporal UI http://127\.0\.0\.1:(\d+)", text)
    assert temporal
    assert ui
    return int(base.rsplit(":", 1)[1]), int(temporal[1]), int(ui[1])


@pytest.mark.e2e
def test_the_readme_runs_as_written_against_a_fresh_stack(
    python_env: dict[str, str], tmp_path: Path
) -> None:
    checkout = _checkout(tmp_path)
    data = checkout / ".data"
    env = {k: v for k, v in python_env.items() if k not in {"AUTH_SECRET", "DATA_DIR", "API_PORT"}}
    log = tmp_path / "stack.log"
    runner, base = start_stack(data, env, log, auth_secret=None)
    try:
        wait_for_line(log, runner, BANNER_END)
        exports, admin = _banner(log)
        assert [line.split("=", 1)[0] for line in exports] == [f"export {n}" for n in EXPORTS]
        runnable = [block.text for block in shell_blocks() if block.skip is None]
        script = "\n".join(["set -euo pipefail", *exports, *runnable])
        shell_env = {**env, "API_PORT": base.rsplit(":", 1)[1]}
        shell_env["PATH"] = f"{_strict_curl(tmp_path)}:{env['PATH']}"

        ran = _run(["bash", "-c", script], checkout, shell_env)

        assert ran.returncode == 0, f"{ran.stdout[-3000:]}\n{ran.stderr[-3000:]}"
        assert "demo world ready" in ran.stdout
        assert (checkout / "releases.csv").read_text().startswith("kind,id,")

        # Nothing set at all, not even the port: every command finds the stack by itself.
        for command in (["reconcile"], ["backfill-legacy-releases"], ["export-report", "sla"]):
            found = _run([".venv/bin/python", "cli.py", *command], checkout, env)
            assert found.returncode == 0, found.stdout + found.stderr
        token = _run(["make", "-s", "token", "ROLE=admin", "SUB=ops"], checkout, env)
        assert token.returncode == 0, token.stderr
        minted = {"Authorization": f"Bearer {token.stdout.strip()}"}
        assert httpx.get(f"{base}/v1/templates/qts", headers=minted).status_code == 200

        # A restart keeps the dev secret: the first banner's admin token still works.
        ports = _ports(base, log)
        stop(runner, signal.SIGINT)
        assert not (data / f"stack-{ports[0]}.json").exists()
        runner, _ = start_stack(data, env, tmp_path / "again.log", ports, auth_secret=None)
        wait_for_line(tmp_path / "again.log", runner, BANNER_END)
        assert _banner(tmp_path / "again.log")[0] == exports
        kept = httpx.get(f"{base}/v1/templates/qts", headers={"Authorization": f"Bearer {admin}"})
        assert kept.status_code == 200
    finally:
        stop(runner)
        kill_everything_under(data)
