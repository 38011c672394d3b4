"""The review cycle over HTTP against the engine's floors, on one stack it starts.

Starts an embedded PostgreSQL, a Temporal dev server, N worker processes and the API (all
real processes on free ports), then at each concurrency runs review cycles through HTTP —
create, answer, submit, self-assign, start review, decide, submit CONFORM, see COMPLETED —
beside two engine floors on the same server: a no-op workflow taking 4 updates, each
running one local (then one regular) no-op activity (bench/floors.py). Prints cycles/s,
per-call p50/p95, the ratios, CPU seconds per cycle of each process kind, each worker's
task counts, and 50 concurrent readers against 1.

    .venv/bin/python bench/review_cycle.py [--cycles N] [--concurrency 1,4,16]
        [--workers N] [--api-workers N] [--readers-s S]
"""

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import psutil
from readers import read_throughput
from submit import DEFINITION
from temporalio.client import Client

from core.auth import mint_token
from core.devserver import DevServer, port_open
from core.migrate import upgrade
from core.pg import drop_database, ensure_database, start_embedded, stop_embedded
from core.provision import prepare_temporal
from core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-that-is-long-enough-for-hs256!"
FLOOR_QUEUE = "bench-floor"
LOCAL_FLOOR, REGULAR_FLOOR = "LocalFloorWorkflow", "RegularFloorWorkflow"  # bench/floors.py
# bench/submit.py's one-element template, with one level: one review completes the case.
TEMPLATE = {
    "code": "bench",
    "name": "Bench",
    **DEFINITION,
    "stages": [{"code": "main", "name": "Main", "levels": 1}],
}
UPDATES = ("submit", "self-assign", "start review", "submit review")
Headers = dict[str, str]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def bearer(sub: str, *roles: str) -> Headers:
    token = mint_token(
        secret=SECRET, sub=sub, roles=list(roles), now=datetime.now(UTC), ttl=timedelta(hours=6)
    )
    return {"Authorization": f"Bearer {token}"}


ADMIN, APPLICANT, REVIEWER = (
    bearer("bench-admin", "admin"),
    bearer("bench-applicant", "applicant"),
    bearer("bench-rev", "reviewer"),
)


@dataclass
class Calls:
    """Seconds each named call took."""

    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    async def timed(self, name: str, call: Awaitable[httpx.Response], ok: int = 200) -> object:
        began = time.perf_counter()
        response = await call
        self.times[name].append(time.perf_counter() - began)
        if isinstance(response, httpx.Response):
            if response.status_code != ok:
                raise RuntimeError(f"{name}: {response.status_code} {response.text[:300]}")
            return response.json()
        return response

    def updates(self) -> list[float]:
        return [t for name in UPDATES for t in self.times[name]]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


async def cycle(api: httpx.AsyncClient, calls: Calls) -> None:
    """One application from creation to COMPLETED, through HTTP."""
    created = await calls.timed(
        "create",
        api.post("/v1/applications", json={"template_code": "bench"}, headers=APPLICANT),
        201,
    )
    app_id = created["id"]  # type: ignore[index]
    await calls.timed(
        "answer",
        api.put(
            f"/v1/applications/{app_id}/responses/name", json={"value": "Ada"}, headers=APPLICANT
        ),
    )
    await calls.timed("submit", api.post(f"/v1/applications/{app_id}/submit", headers=APPLICANT))
    rows = await calls.timed(
        "list rows", api.get(f"/v1/applications/{app_id}/assignments", headers=REVIEWER)
    )
    row = next(r for r in rows["items"] if r["reviewer_id"] == "bench-rev")  # type: ignore[index]
    await calls.timed(
        "self-assign", api.post(f"/v1/assignments/{row['id']}/self-assign", headers=REVIEWER)
    )
    started = await calls.timed(
        "start review", api.post(f"/v1/assignments/{row['id']}/reviews", headers=REVIEWER), 201
    )
    review_id = started["review_id"]  # type: ignore[index]
    shown = await calls.timed("get review", api.get(f"/v1/reviews/{review_id}", headers=REVIEWER))
    for response in shown["responses"]:  # type: ignore[index]
        await calls.timed(
            "decide",
            api.put(
                f"/v1/reviews/{review_id}/responses/{response['target_id']}",
                json={"decision": "APPROVE"},
                headers=REVIEWER,
            ),
        )
    await calls.timed(
        "submit review",
        api.post(f"/v1/reviews/{review_id}/submit", json={"decision": "CONFORM"}, headers=REVIEWER),
    )
    shown = await calls.timed("see", api.get(f"/v1/applications/{app_id}", headers=APPLICANT))
    if shown["status"] != "COMPLETED":  # type: ignore[index]
        raise RuntimeError(f"application {app_id} is {shown['status']}")  # type: ignore[index]


def floor_cycle(client: Client, kind: str) -> Callable[[Calls], Awaitable[None]]:
    """One floor cycle: start the no-op workflow `kind`, 4 updates, its result."""

    async def one(calls: Calls) -> None:
        began = time.perf_counter()
        handle = await client.start_workflow(
            kind, id=f"floor-{uuid.uuid4()}", task_queue=FLOOR_QUEUE
        )
        calls.times["start"].append(time.perf_counter() - began)
        for step in UPDATES:
            began = time.perf_counter()
            await handle.execute_update("step", step)
            calls.times[step].append(time.perf_counter() - began)
        await handle.result()

    return one


async def run_phase(
    concurrency: int, count: int, one: Callable[[Calls], Awaitable[None]]
) -> tuple[float, Calls]:
    """`count` cycles, `concurrency` at once: (wall seconds, calls)."""
    calls = Calls()
    remaining = iter(range(count))

    async def lane() -> None:
        for _ in remaining:
            await one(calls)

    began = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return time.perf_counter() - began, calls


@dataclass
class Stack:
    tmp: Path
    admin_url: str
    db: str
    temporal: DevServer
    env: dict[str, str]
    api_port: int
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    metrics: dict[str, int] = field(default_factory=dict)

    def spawn(self, name: str, args: list[str], extra: dict[str, str] | None = None) -> None:
        log = (self.tmp / f"{name}.log").open("ab")
        self.children[name] = subprocess.Popen(
            args,
            env={**self.env, **(extra or {})},
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far of each kind: server, postgres, workers, floor, API."""
        kinds: dict[str, float] = defaultdict(float)
        groups: list[tuple[str, int | None]] = [
            ("server", self.temporal.process.pid if self.temporal.process else None),
            ("postgres", _postmaster(self.tmp / "pg")),
        ]
        groups += [
            ("worker" if n.startswith("worker") else n, c.pid) for n, c in self.children.items()
        ]
        for kind, pid in groups:
            if pid is None:
                continue
            try:
                root = psutil.Process(pid)
                for process in [root, *root.children(recursive=True)]:
                    times = process.cpu_times()
                    kinds[kind] += times.user + times.system
                    kinds[kind] += times.children_user + times.children_system
            except psutil.Error:
                continue
        return kinds

    def stop(self) -> None:
        for child in self.children.values():
            child.terminate()
        for child in self.children.values():
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
        self.temporal.stop()
        drop_database(self.admin_url, self.db)
        stop_embedded(self.tmp / "pg")


def _postmaster(pgdata: Path) -> int | None:
    pid_file = pgdata / "postmaster.pid"
    return int(pid_file.read_text().split()[0]) if pid_file.exists() else None


def wait_port(port: int, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while not port_open(port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing answers on port {port}")
        time.sleep(0.2)


def start_stack(workers: int, api_workers: int) -> Stack:
    tmp = Path(tempfile.mkdtemp(prefix="casework-cycle-"))
    admin_url = start_embedded(tmp / "pg")
    db = f"cycle_{uuid.uuid4().hex[:8]}"
    url = ensure_database(admin_url, db)
    upgrade(url)
    settings = Settings(
        temporal_port=free_port(), temporal_ui_port=free_port(), data_dir=tmp, auth_secret=SECRET
    )
    temporal = DevServer(settings=settings, data=tmp)
    temporal.spawn()
    asyncio.run(prepare_temporal(settings, temporal.target, deadline_s=90))
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TEMPORAL_ADDRESS": temporal.target,
        "AUTH_SECRET": SECRET,
        "LOG_LEVEL": "WARNING",
        "DATA_DIR": str(tmp),
    }
    stack = Stack(tmp, admin_url, db, temporal, env, free_port())
    for n in range(workers):
        port = free_port()
        stack.metrics[f"worker{n}"] = port
        stack.spawn(f"worker{n}", [sys.executable, "worker.py"], {"WORKER_METRICS_PORT": str(port)})
    uvicorn = [sys.executable, "-m", "uvicorn", "api.app:app", "--host", "127.0.0.1"]
    uvicorn += ["--port", str(stack.api_port), "--no-access-log"]
    if api_workers > 1:
        uvicorn += ["--workers", str(api_workers)]
    stack.spawn("api", uvicorn)
    stack.spawn("floor", [sys.executable, "bench/floors.py", temporal.target, FLOOR_QUEUE])
    for port in (stack.api_port, *stack.metrics.values()):
        wait_port(port)
    return stack


def task_counts(stack: Stack) -> dict[str, dict[str, float]]:
    """Per worker: workflow tasks, activities and local activities run (SDK metrics)."""
    names = {
        "workflow tasks": "temporal_workflow_task_execution_latency_count",
        "activities": "temporal_activity_execution_latency_count",
        "local activities": "temporal_local_activity_execution_latency_count",
    }
    counts: dict[str, dict[str, float]] = {}
    for worker, port in stack.metrics.items():
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        found = dict.fromkeys(names, 0.0)
        for line in text.splitlines():
            for label, metric in names.items():
                if line.startswith(metric):
                    found[label] += float(line.rsplit(" ", 1)[1])
        counts[worker] = found
    return counts


def show(name: str, wall: float, count: int, calls: Calls) -> None:
    steps = "  ".join(
        f"{step} {pct(t, 0.5):.0f}/{pct(t, 0.95):.0f}" for step, t in calls.times.items()
    )
    print(f"  {name:<14} {count / wall:6.2f} cycles/s   p50/p95 ms: {steps}")


async def setup(api: httpx.AsyncClient) -> None:
    user = {
        "id": "bench-rev",
        "name": "Bench reviewer",
        "roles": ["reviewer"],
        "review_grants": [{"template_code": "bench", "stage": "main", "level": 1}],
    }
    for path, body in (("/v1/users", user), ("/v1/templates", TEMPLATE)):
        response = await api.post(path, json=body, headers=ADMIN)
        if response.status_code != 201:
            raise RuntimeError(f"{path}: {response.status_code} {response.text}")


async def measure(stack: Stack, args: argparse.Namespace) -> None:
    client = await Client.connect(stack.temporal.target)
    base = f"http://127.0.0.1:{stack.api_port}"
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as api:
        await setup(api)
        await run_phase(2, 4, lambda calls: cycle(api, calls))  # warm-up
        await run_phase(2, 4, floor_cycle(client, LOCAL_FLOOR))
        await run_phase(2, 4, floor_cycle(client, REGULAR_FLOOR))
        before_counts = task_counts(stack)
        print(f"review cycle: {args.workers} worker(s), {args.api_workers} API worker(s)")
        kinds = ("cycle", "local floor", "regular floor")
        cpu_total: dict[str, dict[str, float]] = {k: defaultdict(float) for k in kinds}
        cycles_total: dict[str, int] = dict.fromkeys(kinds, 0)
        for concurrency in args.concurrency:
            count = max(args.cycles, 2 * concurrency)
            print(f"concurrency {concurrency}, {count} cycles each")
            results: dict[str, tuple[float, Calls]] = {}
            phases: dict[str, Callable[[Calls], Awaitable[None]]] = {
                "cycle": lambda calls: cycle(api, calls),
                "local floor": floor_cycle(client, LOCAL_FLOOR),
                "regular floor": floor_cycle(client, REGULAR_FLOOR),
            }
            for kind, one in phases.items():
                before = stack.cpu()
                results[kind] = await run_phase(concurrency, count, one)
                after = stack.cpu()
                for process, seconds in after.items():
                    cpu_total[kind][process] += seconds - before.get(process, 0.0)
                cycles_total[kind] += count
                show(kind, results[kind][0], count, results[kind][1])
            rate = {k: count / wall for k, (wall, _) in results.items()}
            update_p50 = {k: pct(calls.updates(), 0.5) for k, (_, calls) in results.items()}
            print(
                f"  ratios: cycle/local floor {rate['cycle'] / rate['local floor']:.2f}x"
                f"   cycle/regular floor {rate['cycle'] / rate['regular floor']:.2f}x"
                f"   update p50 {update_p50['cycle']:.1f} ms vs local floor"
                f" {update_p50['local floor']:.1f} ms = "
                f"{update_p50['cycle'] / update_p50['local floor']:.2f}x"
            )
        print("CPU ms per cycle (all concurrencies):")
        for kind in kinds:
            per = {p: s * 1000 / cycles_total[kind] for p, s in sorted(cpu_total[kind].items())}
            total = sum(per[p] for p in ("server", "worker", "api", "floor") if p in per)
            shown = "  ".join(f"{p} {ms:.0f}" for p, ms in per.items())
            print(f"  {kind:<14} {shown}   (server+worker+api/floor {total:.0f})")
        after_counts = task_counts(stack)
        print("per worker (cycle + floors phases excluded warm-up): tasks run")
        for worker, found in after_counts.items():
            done = {k: v - before_counts[worker][k] for k, v in found.items()}
            print(f"  {worker}: " + "  ".join(f"{k} {v:.0f}" for k, v in done.items()))
        if args.readers_s > 0:
            await read_throughput(base, REVIEWER, args.readers_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cycles", type=int, default=24, help="cycles per phase (at least 2 per lane)"
    )
    parser.add_argument("--concurrency", default="1,4,16")
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument("--api-workers", type=int, default=1, help="uvicorn workers")
    parser.add_argument("--readers-s", type=float, default=5.0, help="0: skip the readers")
    args = parser.parse_args()
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    print(f"load before: {os.getloadavg()[0]:.2f}, {psutil.cpu_count()} cores")
    stack = start_stack(args.workers, args.api_workers)
    try:
        asyncio.run(measure(stack, args))
    finally:
        stack.stop()
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
