"""Concurrent readers of the API: GET lists and details, 1 reader against 50.

`read_throughput` is the readers phase of bench/review_cycle.py. Run alone, this starts
its own embedded PostgreSQL with a few dozen applications and the API under uvicorn (no
Temporal: the API's client is lazy and never dials), then runs that phase:

    .venv/bin/python bench/readers.py [--seconds 10] [--api-workers 2] [--applications 60]

Each line gives reads/s, p50 and p95, and the CPU the API processes and this client used
(as a share of one core over the phase): the client runs on the same cores as the API,
so it is run twice, with httpx (as in review_cycle.py) and with a minimal HTTP/1.1 client.
"""

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


def _listeners(base: str) -> list[psutil.Process]:
    """The processes serving `base`'s port (uvicorn and its workers), if they can be seen."""
    port = httpx.URL(base).port
    try:
        pids = {
            c.pid
            for c in psutil.net_connections("tcp")
            if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid
        }
        found = {pid: psutil.Process(pid) for pid in pids}
        for process in list(found.values()):
            for child in process.children(recursive=True):
                found[child.pid] = child
    except psutil.Error:
        return []
    return list(found.values())


def _cpu(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            continue
    return total


class _Lean:
    """A minimal HTTP/1.1 keep-alive client (one connection per reader): the cost of the
    client itself left out of what the readers measure, as far as it can be."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        url = httpx.URL(base)
        self.host, self.port = url.host, url.port or 80
        self.head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.head}\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return status, await reader.readexactly(length)

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()


async def _read_for(
    base: str, headers: dict[str, str], readers: int, seconds: float, *, lean: bool = False
) -> tuple[list[float], float, float, float]:
    """Latencies of `readers` closed-loop readers for `seconds`, then the wall time and the
    CPU seconds of the API's processes and of this client over it."""
    limits = httpx.Limits(max_connections=readers, max_keepalive_connections=readers)
    times: list[float] = []
    servers = _listeners(base)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as api:
        page = (await api.get("/v1/applications?limit=20", headers=headers)).json()
        ids = [item["id"] for item in page["items"]] or ["none"]
        began_at, api_cpu, own_cpu = time.perf_counter(), _cpu(servers), time.process_time()
        stop = began_at + seconds

        async def reader(n: int) -> None:
            turn = n
            own = _Lean(base, headers) if lean else None
            try:
                while time.perf_counter() < stop:
                    turn += 1
                    path = (
                        "/v1/applications?limit=20"
                        if turn % 2
                        else f"/v1/applications/{ids[turn % len(ids)]}"
                    )
                    began = time.perf_counter()
                    if own is not None:
                        status, _body = await own.get(path)
                    else:
                        status = (await api.get(path, headers=headers)).status_code
                    if status != 200:
                        raise RuntimeError(f"{path}: {status}")
                    times.append(time.perf_counter() - began)
            finally:
                if own is not None:
                    own.close()

        await asyncio.gather(*(reader(n) for n in range(readers)))
        wall = time.perf_counter() - began_at
        api_cpu, own_cpu = _cpu(servers) - api_cpu, time.process_time() - own_cpu
    return times, wall, api_cpu, own_cpu


async def read_throughput(
    base: str, headers: dict[str, str], seconds: float, *, lean: bool = False
) -> None:
    """Print reads/s and p50/p95 of 1 reader and of 50, and their ratio (`lean`: with the
    minimal client instead of httpx)."""
    client = "minimal HTTP/1.1 client" if lean else "httpx"
    print(f"readers (GET /v1/applications list and detail, {seconds:.0f} s each, {client}):")
    rates = {}
    for readers in (1, 50):
        times, wall, api_cpu, own_cpu = await _read_for(base, headers, readers, seconds, lean=lean)
        rates[readers] = len(times) / seconds
        reads = max(1, len(times))
        print(
            f"  {readers:>2} reader(s): {rates[readers]:7.1f} reads/s"
            f"   p50 {_pct(times, 0.5):6.1f} ms"
            f"   p95 {_pct(times, 0.95):6.1f} ms"
            f"   CPU: API {api_cpu / wall:4.0%} of a core ({api_cpu / reads * 1e6:5.0f} µs/read),"
            f" this client {own_cpu / wall:4.0%} ({own_cpu / reads * 1e6:5.0f} µs/read)"
        )
    print(f"  throughput 50 vs 1: {rates[50] / rates[1]:.2f}x")
    print(f"  (closed loop: 50 readers at p95 <= 100 ms need about {50 / 0.1:.0f}+ reads/s)")


def _seed(url: str, applications: int) -> None:
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import create_engine

    from core.db import normalize_url
    from tests.support.seed import seed_draft, seed_template

    engine = create_engine(normalize_url(url))
    seed_template(engine)
    for n in range(applications):
        seed_draft(engine, applicant=f"applicant-{n % 7}")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--api-workers", type=int, default=2)
    parser.add_argument("--applications", type=int, default=60)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from datetime import UTC, datetime, timedelta

    from core.auth import mint_token
    from core.migrate import upgrade
    from core.pg import drop_database, ensure_database, start_embedded, stop_embedded

    secret = "bench-secret-that-is-long-enough-for-hs256!"
    tmp = Path(tempfile.mkdtemp(prefix="casework-readers-"))
    admin = start_embedded(tmp / "pg")
    name = f"readers_{uuid.uuid4().hex[:8]}"
    url = ensure_database(admin, name)
    api: subprocess.Popen[bytes] | None = None
    try:
        upgrade(url)
        _seed(url, args.applications)
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "TEMPORAL_ADDRESS": "127.0.0.1:1",
            "AUTH_SECRET": secret,
            "LOG_LEVEL": "WARNING",
            "DATA_DIR": str(tmp),
        }
        command = [sys.executable, "-m", "uvicorn", "api.app:app", "--host", "127.0.0.1"]
        command += ["--port", str(port), "--no-access-log", "--workers", str(args.api_workers)]
        api = subprocess.Popen(command, env=env, cwd=ROOT)
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        token = mint_token(
            secret=secret, sub="reader", roles=["reviewer"], now=datetime.now(UTC), ttl=timedelta(1)
        )
        print(f"load before: {os.getloadavg()[0]:.2f}; API workers {args.api_workers}")
        auth = {"Authorization": f"Bearer {token}"}
        for lean in (False, True):
            asyncio.run(read_throughput(base, auth, args.seconds, lean=lean))
        print(f"load after: {os.getloadavg()[0]:.2f}")
    finally:
        if api is not None:
            api.terminate()
            api.wait(timeout=30)
        drop_database(admin, name)
        stop_embedded(tmp / "pg")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
