"""Headless Chromium (Debian's `chromium`) against a stack of the tests' own.

No code path downloads a browser: Playwright drives the system Chromium through
`executable_path` (never `playwright install`). Without Chromium every test here is
skipped, saying so. Screenshots go to tests/artifacts/ (git-ignored) for a person to look at.
"""

import os
import shutil
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, Route, sync_playwright

from tests.e2e.conftest import ROOT, kill_everything_under, start_stack, stop
from tests.support.builders import complete_answers, make_template
from tests.support.infra import free_port
from tests.support.tokens import bearer

ARTIFACTS = ROOT / "tests" / "artifacts"
NO_CHROMIUM = (
    "Chromium is not installed, so the real-browser tests are skipped: "
    "`apt-get install chromium` (as root; .ci/run does it), or set CHROMIUM=/path/to/chromium"
)


@dataclass(frozen=True)
class Stack:
    """A `cli.py run` of the tests' own: the API, the Temporal frontend and its UI."""

    api: str
    temporal_address: str
    ui: str
    data: Path
    env: dict[str, str]


def chromium_executable() -> str | None:
    """The system Chromium: $CHROMIUM, else `chromium` (Debian) or `chromium-browser` on PATH."""
    if configured := os.environ.get("CHROMIUM"):
        return shutil.which(configured)
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def chromium() -> str:
    """The path of the system Chromium, or a skip that says how to install it."""
    executable = chromium_executable()
    if executable is None:
        pytest.skip(NO_CHROMIUM)
    return executable


@pytest.fixture(scope="session")
def playwright_driver(chromium: str) -> Iterator[Playwright]:
    """Playwright's driver (shipped inside its wheel; it downloads nothing)."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright, chromium: str) -> Iterator[Browser]:
    """Headless Chromium; --no-sandbox since CI runs as root."""
    launched = playwright_driver.chromium.launch(
        executable_path=chromium, headless=True, args=["--no-sandbox"]
    )
    yield launched
    launched.close()


def _loopback_only(route: Route) -> None:
    """Let requests to this machine through; refuse the rest (the UI's news feed, a CDN)."""
    host = urlsplit(route.request.url).hostname or ""
    if route.request.url.startswith(("data:", "blob:")) or host in {"127.0.0.1", "localhost"}:
        route.continue_()
    else:
        route.abort()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page in a context of its own (wide enough for the Temporal UI's table) that
    never reaches beyond this machine."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    context.set_default_timeout(30_000)
    context.route("**/*", _loopback_only)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go (git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def stack(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """`cli.py run` on free ports, its own data directory; everything stopped afterwards."""
    tmp = tmp_path_factory.mktemp("browser-stack")
    data = tmp / "data"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "TEMPORAL_ADDRESS"}}
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    api_port, temporal_port, ui_port = free_port(), free_port(), free_port()
    process, api = start_stack(data, env, tmp / "stack.log", (api_port, temporal_port, ui_port))
    try:
        yield Stack(
            api=api,
            temporal_address=f"127.0.0.1:{temporal_port}",
            ui=f"http://127.0.0.1:{ui_port}",
            data=data,
            env={**env, "DATA_DIR": str(data), "API_PORT": str(api_port)},
        )
    finally:
        stop(process, signal.SIGINT)
        kill_everything_under(data)


@pytest.fixture(scope="module")
def seeded(stack: Stack) -> Stack:
    """The stack with cases of more than one kind in it."""
    http = httpx.Client(base_url=stack.api, timeout=60)
    admin, alice = bearer("admin", "admin"), bearer("alice", "applicant")
    assert http.post("/v1/templates", json=make_template(), headers=admin).status_code == 201
    for _ in range(2):
        created = http.post("/v1/applications", json={"template_code": "qts"}, headers=alice)
        application = created.json()["id"]
        for element, value in complete_answers().items():
            http.put(
                f"/v1/applications/{application}/responses/{element}",
                json={"value": value},
                headers=alice,
            )
        submitted = http.post(f"/v1/applications/{application}/submit", headers=alice)
        assert submitted.status_code == 200, submitted.text
    assert http.post("/v1/checklist-syncs", json={}, headers=admin).status_code == 202
    return stack
