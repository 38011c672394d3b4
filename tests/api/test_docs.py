"""/docs and /redoc work offline: every asset they load is served by the app itself."""

import re

import httpx
import pytest

ASSET_REFERENCE = re.compile(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']|url:\s*'([^']+)'""")
CONTENT_TYPES = {
    ".js": "javascript",
    ".css": "text/css",
    ".png": "image/png",
    ".json": "application/json",
}


def references(html: str) -> list[str]:
    return [src or url for src, url in ASSET_REFERENCE.findall(html)]


@pytest.mark.parametrize(("page", "script"), [("/docs", "SwaggerUIBundle"), ("/redoc", "Redoc")])
async def test_the_docs_page_loads_only_same_origin_assets(
    api: httpx.AsyncClient, page: str, script: str
) -> None:
    answer = await api.get(page)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    html = answer.text
    assert "http://" not in html
    assert "https://" not in html
    found = references(html)
    assert "/openapi.json" in found
    assert any(ref.endswith(".js") for ref in found)
    for ref in found:
        assert ref.startswith("/"), ref
        assert not ref.startswith("//"), ref
        asset = await api.get(ref)
        assert asset.status_code == 200, ref
        suffix = ref[ref.rfind(".") :]
        assert CONTENT_TYPES[suffix] in asset.headers["content-type"], ref
        if suffix == ".js":
            assert script in asset.text, ref


async def test_the_schema_and_the_docs_need_no_token(api: httpx.AsyncClient) -> None:
    for url in ("/openapi.json", "/docs", "/redoc", "/docs/assets/swagger-ui.css"):
        answer = await api.get(url)
        assert answer.status_code == 200, url
