"""Swagger UI at /docs and ReDoc at /redoc, from assets installed with the project (no CDN).

The assets come from the `fastapi-offline` package (Swagger UI 5 and ReDoc 2 bundles),
so the pages work on a machine without internet access. No token is needed to read them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

# Under /docs, so whatever lets the docs through without a token lets their assets through.
ASSETS_URL = "/docs/assets"
ASSETS_DIR = files("fastapi_offline") / "static"
SWAGGER_UI_PARAMETERS = {
    "persistAuthorization": True,
    # Swagger UI would otherwise ask a public validator about the schema.
    "validatorUrl": None,
}


@dataclass(frozen=True)
class Viewer:
    """A docs page: how it is rendered, its name in the title, the assets it loads (by
    option, file names under ASSETS_URL) and its other options."""

    render: Callable[..., HTMLResponse]
    name: str
    assets: dict[str, str]
    options: dict[str, Any] = field(default_factory=dict)

    def page(self, app: FastAPI, openapi_url: str) -> Callable[[Request], HTMLResponse]:
        """The page's handler, its URLs under the request's root path."""

        def handler(request: Request) -> HTMLResponse:
            root = request.scope.get("root_path", "")
            assets = {option: f"{root}{ASSETS_URL}/{name}" for option, name in self.assets.items()}
            return self.render(
                openapi_url=f"{root}{openapi_url}",
                title=f"{app.title} - {self.name}",
                **assets,
                **self.options,
            )

        return handler


VIEWERS = {
    "/docs": Viewer(
        get_swagger_ui_html,
        "Swagger UI",
        {
            "swagger_js_url": "swagger-ui-bundle.js",
            "swagger_css_url": "swagger-ui.css",
            "swagger_favicon_url": "favicon.png",
        },
        {"swagger_ui_parameters": SWAGGER_UI_PARAMETERS},
    ),
    "/redoc": Viewer(
        get_redoc_html,
        "ReDoc",
        {"redoc_js_url": "redoc.standalone.js", "redoc_favicon_url": "favicon.png"},
        {"with_google_fonts": False},
    ),
}


def install(app: FastAPI) -> None:
    """Serve /docs, /redoc and their assets; the app must be built with docs_url=None."""
    app.mount(ASSETS_URL, StaticFiles(directory=str(ASSETS_DIR)), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"
    for path, viewer in VIEWERS.items():
        app.get(path, include_in_schema=False)(viewer.page(app, openapi_url))
