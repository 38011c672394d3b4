"""Concurrent readers of the API: GET lists and details, 1 reader against 50."""

import asyncio
import time

import httpx


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


async def _read_for(
    base: str, headers: dict[str, str], readers: int, seconds: float
) -> list[float]:
    limits = httpx.Limits(max_connections=readers, max_keepalive_connections=readers)
    times: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as api:
        page = (await api.get("/v1/applications?limit=20", headers=headers)).json()
        ids = [item["id"] for item in page["items"]] or ["none"]
        stop = time.perf_counter() + seconds

        async def reader(n: int) -> None:
            turn = n
            while time.perf_counter() < stop:
                turn += 1
                path = (
                    "/v1/applications?limit=20"
                    if turn % 2
                    else f"/v1/applications/{ids[turn % len(ids)]}"
                )
                began = time.perf_counter()
                response = await api.get(path, headers=headers)
                if response.status_code != 200:
                    raise RuntimeError(f"{path}: {response.status_code}")
                times.append(time.perf_counter() - began)

        await asyncio.gather(*(reader(n) for n in range(readers)))
    return times


async def read_throughput(base: str, headers: dict[str, str], seconds: float) -> None:
    """Print reads/s and p50/p95 of 1 reader and of 50, and their ratio."""
    print(f"readers (GET /v1/applications list and detail, {seconds:.0f} s each):")
    rates = {}
    for readers in (1, 50):
        times = await _read_for(base, headers, readers, seconds)
        rates[readers] = len(times) / seconds
        print(
            f"  {readers:>2} reader(s): {rates[readers]:7.1f} reads/s"
            f"   p50 {_pct(times, 0.5):6.1f} ms"
            f"   p95 {_pct(times, 0.95):6.1f} ms"
        )
    print(f"  throughput 50 vs 1: {rates[50] / rates[1]:.2f}x")
