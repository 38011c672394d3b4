"""API logs: one JSON line per request, carrying its request id, route template and status."""

import httpx

from tests.support.logs import json_logs
from tests.support.tokens import bearer

ADMIN = bearer("admin-1", "admin")


async def test_each_request_logs_one_line_with_its_request_id(api: httpx.AsyncClient) -> None:
    with json_logs("api") as logs:
        given = await api.get("/v1/users/u-1", headers={**ADMIN, "X-Request-ID": "req-given-1"})
        fresh = await api.get("/v1/users/u-2")

    lines = logs.where(logger="casework.api", route="/v1/users/{user_id}")
    assert [(line["request_id"], line["status"], line["path"]) for line in lines] == [
        ("req-given-1", 404, "/v1/users/u-1"),
        (fresh.headers["x-request-id"], 401, "/v1/users/u-2"),
    ]
    assert given.json()["request_id"] == "req-given-1"
    assert lines[0]["message"] == "GET /v1/users/{user_id} 404"
    assert lines[0]["level"] == "INFO"
    assert lines[0]["service"] == "casework-api"
    assert lines[0]["duration_ms"] >= 0


async def test_a_path_no_route_serves_is_logged_as_unmatched(api: httpx.AsyncClient) -> None:
    with json_logs("api") as logs:
        response = await api.get("/no/such/route/7", headers={**ADMIN, "X-Request-ID": "req-2"})

    assert response.status_code == 404
    assert logs.where(request_id="req-2", route="<unmatched>", path="/no/such/route/7", status=404)


async def test_probes_and_scrapes_log_at_debug_only(api: httpx.AsyncClient) -> None:
    with json_logs("api") as logs:
        await api.get("/healthz", headers={"X-Request-ID": "probe-1"})
        await api.get("/metrics", headers={"X-Request-ID": "scrape-1"})

    assert [line["level"] for line in logs.where(request_id="probe-1")] == ["DEBUG"]
    assert [line["level"] for line in logs.where(request_id="scrape-1")] == ["DEBUG"]
