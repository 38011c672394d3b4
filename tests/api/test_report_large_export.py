"""A large CSV export holds exactly the rows of the JSON pages, in the same order.

The data set is the reports bench's own (`bench/report_seed.py`, COPY), a few thousand
results: the export spans many streamed chunks and the pages many cursors.
"""

import csv
import io
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel
from sqlalchemy import Engine

from api.app import create_app
from api.pagination import MAX_LIMIT
from api.services.report import SHAPES
from core.settings import Settings
from domain.report import ReportName
from tests.support.tokens import SECRET, bearer

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from report_seed import load

ADMIN = bearer("exporter", "admin")
RESULTS = 3_000


@pytest.fixture
async def seeded(db: Engine, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app (a lazy Temporal client, never dialled: reports only read) on seeded data."""
    load(database_url, RESULTS)
    settings = Settings(
        auth_secret=SECRET, database_url="unused://", temporal_address="127.0.0.1:1"
    )
    app = create_app(settings, engine=db)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://casework.test") as client,
    ):
        yield client


async def pages(client: httpx.AsyncClient, path: str) -> list[dict[str, Any]]:
    """Every JSON page of the report, following the cursors."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"limit": str(MAX_LIMIT), **({"cursor": cursor} if cursor else {})}
        response = await client.get(path, params=params, headers=ADMIN)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def as_row(model: type[BaseModel], cells: dict[str, str]) -> BaseModel:
    """One CSV line as the report's row model (an empty cell is null; a text cell that was
    neutralised as a formula loses its apostrophe)."""
    values = {k: None if v == "" else v.removeprefix("'") for k, v in cells.items()}
    return model.model_validate(values)


# The detail reports (the long exports); sla is left out: a running timer's elapsed_s
# moves between the two requests.
@pytest.mark.parametrize("name", [ReportName.RESULT_TRACKING, ReportName.OUTCOME_RELEASES])
async def test_a_large_export_has_the_rows_of_the_json_pages(
    seeded: httpx.AsyncClient, name: ReportName
) -> None:
    path = f"/v1/reports/{name.value}"
    model = SHAPES[name].row
    exported = await seeded.get(path, params={"format": "csv"}, headers=ADMIN)
    assert exported.status_code == 200
    lines = list(csv.DictReader(io.StringIO(exported.text, newline="")))
    paged = await pages(seeded, path)

    assert len(paged) > 4 * MAX_LIMIT  # many pages, many streamed chunks
    assert exported.text.splitlines()[0].split(",") == list(model.model_fields)
    assert [as_row(model, line) for line in lines] == [model.model_validate(i) for i in paged]
