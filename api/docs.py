"""Swagger UI at /docs and ReDoc at /redoc, from assets installed with the project (no CDN).

The assets come from the `fastapi-offline` package (Swagger UI 5 and ReDoc 2 bundles),
so the pages work on a machine without internet access. No token is needed to read them.
"""

from importlib.resources import files

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


def install(app: FastAPI) -> None:
    """Serve /docs, /redoc and their assets; the app must be built with docs_url=None."""
    app.mount(ASSETS_URL, StaticFiles(directory=str(ASSETS_DIR)), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
