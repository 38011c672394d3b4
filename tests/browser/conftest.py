"""Headless Chromium (Debian's `chromium`) against a stack of the tests' own.

No code path downloads a browser: Playwright drives the system Chromium through
`executable_path` (never `playwright install`). Without Chromium every test here is
skipped, saying so. Screenshots go to tests/artifacts/ (git-ignored) for a person to look
at. The stack and the browser live as long as this package's tests, not the whole run.
"""

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Playwright, Route, expect, sync_playwright

from tests.e2e.conftest import ROOT, kill_everything_under, start_stack, stop
from tests.support.infra import free_port
from tests.support.tokens import SECRET

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


@pytest.fixture(scope="package")
def playwright_driver(chromium: str) -> Iterator[Playwright]:
    """Playwright's driver (shipped inside its wheel; it downloads nothing)."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright_driver: Playwright, chromium: str) -> Iterator[Browser]:
    """Headless Chromium: no sandbox (CI runs as root), no reliance on a large /dev/shm."""
    launched = playwright_driver.chromium.launch(
        executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
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
    expect.set_options(timeout=30_000)  # the UI draws a case's pages in a few seconds
    context.route("**/*", _loopback_only)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go (git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="package")
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
            env={**env, "DATA_DIR": str(data), "API_PORT": str(api_port), "AUTH_SECRET": SECRET},
        )
    finally:
        stop(process, signal.SIGINT)
        kill_everything_under(data)


@pytest.fixture(scope="package")
def seeded(stack: Stack) -> Stack:
    """The stack after `cli.py seed-demo`: every kind of case, in every state."""
    seeded = subprocess.run(
        [sys.executable, "cli.py", "seed-demo", "--api", stack.api],
        env=stack.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    return stack
