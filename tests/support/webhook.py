"""A subscription row, feed events and a receiver on loopback, for webhook tests."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session

from api.services import webhook as service
from api.services.webhook import WebhookCreate
from models.event import publish
from operator_cli.webhook_receiver import Receiver, serve
from tests.support.infra import free_port

AT = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def subscribe(db: Engine, url: str, *types: str, subscription_id: str) -> str:
    """Store an ACTIVE subscription to `types` (default all); its secret."""
    secret = service.new_secret()
    body = WebhookCreate(url=url, event_types=list(types) or ["*"])
    with Session(db) as session, session.begin():
        service.create(
            session, body, subscription_id=subscription_id, secret=secret, actor="admin", at=AT
        )
    return secret


def publish_events(db: Engine, *types: str, start: int = 0) -> None:
    """Append one feed event per type (subjects `s{n}`)."""
    with Session(db) as session, session.begin():
        for n, event_type in enumerate(types, start=start):
            publish(
                session, type=event_type, subject=f"s{n}", at=AT, key=f"test-{n}", data={"n": n}
            )


@contextmanager
def receiving(receiver: Receiver) -> Iterator[str]:
    """`receiver` served on loopback in a thread; its URL."""
    port = free_port()
    server = serve(receiver, "127.0.0.1", port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/hook"
    finally:
        server.shutdown()
        server.server_close()
