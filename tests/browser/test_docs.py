"""The API's /docs (and /redoc) render in a real browser with the network beyond the API refused."""

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route

from tests.browser.conftest import Stack

pytestmark = pytest.mark.e2e

# What each page shows once its JavaScript has fetched and drawn the OpenAPI document.
RENDERED = {
    "/docs": ".swagger-ui .opblock-summary-path",
    "/redoc": "[data-section-id^='operation/']",
}


def _local(url: str, api: str) -> bool:
    """True for the API's own origin (and in-page data:/blob: URLs, which leave nothing)."""
    parts = urlsplit(url)
    return parts.scheme in {"data", "blob"} or f"{parts.scheme}://{parts.netloc}" == api


def _open_offline(page: Page, stack: Stack, path: str, artifacts: Path) -> list[tuple[str, str]]:
    """Open the API's `path`, refusing every request beyond the API; check that it fetched
    the live schema from the installed bundle and drew every route; screenshot it.
    Returns the refused requests as (resource type, URL)."""
    requested: list[str] = []
    refused: list[tuple[str, str]] = []

    def only_local(route: Route) -> None:
        request = route.request
        requested.append(request.url)
        if _local(request.url, stack.api):
            route.continue_()
        else:
            refused.append((request.resource_type, request.url))
            route.abort()

    page.route("**/*", only_local)
    page.goto(f"{stack.api}{path}", wait_until="networkidle")
    operations = page.locator(RENDERED[path])
    operations.first.wait_for(state="visible")
    page.screenshot(path=str(artifacts / f"api{path.replace('/', '-')}.png"))

    assert f"{stack.api}/openapi.json" in requested
    assert any("/docs/assets/" in url for url in requested)
    assert "/v1/applications" in page.locator("body").inner_text()
    assert operations.count() > 10  # the routes, not an error box
    return refused


def test_swagger_ui_at_docs_asks_nothing_of_any_server_but_the_api(
    stack: Stack, page: Page, artifacts: Path
) -> None:
    refused = _open_offline(page, stack, "/docs", artifacts)

    assert refused == [], f"/docs asked for something beyond the API: {refused}"


def test_redoc_renders_with_the_network_beyond_the_api_refused(
    stack: Stack, page: Page, artifacts: Path
) -> None:
    refused = _open_offline(page, stack, "/redoc", artifacts)

    # ReDoc's bundle always asks its CDN for the Redocly logo and hides the image when
    # that fails; no script, style sheet or font may come from anywhere but the API.
    assert [url for kind, url in refused if kind != "image"] == []
