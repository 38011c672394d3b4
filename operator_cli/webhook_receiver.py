"""`python cli.py webhook-receiver`: a webhook receiver for tests and demos.

It verifies each request's Standard Webhooks signature (with `standardwebhooks`), fails a
share of the requests on purpose (503), answers 401 to a bad signature and 204 otherwise,
and appends one JSON line per request to a record file.
"""

import json
import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from standardwebhooks import Webhook, WebhookVerificationError

MAX_BODY = 1 << 20


@dataclass
class Receiver:
    """What the receiver checks and where it writes (`secret_file` is read per request, so
    a subscription created after the receiver started can give it its secret)."""

    secret: str | None = None
    secret_file: Path | None = None
    fail_rate: float = 0.0
    record: Path | None = None
    answer: int | None = None  # every valid request gets this status instead (e.g. 410)
    script: list[int] = field(default_factory=list)  # the first valid requests' statuses
    seed: int | None = None
    received: list[dict[str, object]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(self.seed)  # a test's failures, not secrets

    def secrets(self) -> list[str]:
        """The secrets a signature may be made with (any one of them is enough)."""
        found = [self.secret] if self.secret else []
        if self.secret_file is not None and self.secret_file.exists():
            found += self.secret_file.read_text().split()
        return found

    def handle(self, body: bytes, headers: dict[str, str]) -> int:
        """Judge one request; record it; the status to answer."""
        valid = any(_verifies(secret, body, headers) for secret in self.secrets())
        with self._lock:
            failed = self._random.random() < self.fail_rate
            scripted = self.script.pop(0) if valid and self.script else None
        status = 401 if not valid else scripted or (503 if failed else self.answer or 204)
        entry: dict[str, object] = {
            "webhook_id": headers.get("webhook-id"),
            "valid": valid,
            "status": status,
            "received_at": datetime.now(UTC).isoformat(),
        }
        try:
            event = json.loads(body)
            entry.update(event_id=event.get("id"), type=event.get("type"))
        except (ValueError, AttributeError):
            entry.update(event_id=None, type=None)
        with self._lock:
            self.received.append(entry)
            if self.record is not None:
                with self.record.open("a") as out:
                    out.write(json.dumps(entry) + "\n")
                    out.flush()
        return status


def _verifies(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    try:
        Webhook(secret).verify(body, headers)
    except (WebhookVerificationError, ValueError):
        return False
    return True


def serve(receiver: Receiver, host: str, port: int) -> ThreadingHTTPServer:
    """An HTTP server for `receiver` (call `serve_forever`, or run it in a thread)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = min(int(self.headers.get("content-length") or 0), MAX_BODY)
            body = self.rfile.read(length)
            headers = {key.lower(): value for key, value in self.headers.items()}
            status = receiver.handle(body, headers)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the record file is the log."""

    return ThreadingHTTPServer((host, port), Handler)
