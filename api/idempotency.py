"""`Idempotency-Key` on a POST: a retry gets the first answer back, nothing runs twice."""

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import jwt
from sqlalchemy import Engine, delete
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem
from models.idempotency import IdempotentRequest

HEADER = "idempotency-key"


class IdempotencyMiddleware:
    """Stores the first answer per (caller, key); a replay returns it, a clash is refused."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        key = request.headers.get(HEADER)
        caller = _unverified_subject(request.headers.get("authorization", ""))
        if not key or caller is None:
            await self.app(scope, receive, send)
            return
        body = await request.body()
        engine: Engine = scope["app"].state.engine
        fingerprint = hashlib.sha256(scope["path"].encode() + b"\n" + body).hexdigest()
        claimed, stored = await run_in_threadpool(
            _claim, engine, caller, key, scope["path"], fingerprint
        )
        if not claimed:
            await _replay(stored, fingerprint, scope, receive, send)
            return
        await self._run_and_store(scope, body, send, engine, caller, key)

    async def _run_and_store(
        self, scope: Scope, body: bytes, send: Send, engine: Engine, caller: str, key: str
    ) -> None:
        status: dict[str, int] = {}
        chunks: list[bytes] = []

        async def replay_body() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_body, capture)
        finally:
            code = status.get("code", 500)
            await run_in_threadpool(_settle, engine, caller, key, code, b"".join(chunks))


def _unverified_subject(authorization: str) -> str | None:
    """The token's `sub` to scope keys by; the route still verifies the token."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    sub = claims.get("sub")
    return str(sub) if sub else None


def _claim(
    engine: Engine, caller: str, key: str, path: str, fingerprint: str
) -> tuple[bool, IdempotentRequest | None]:
    """Reserve the key; when it was already taken return the stored row."""
    with Session(engine) as session, session.begin():
        inserted = session.execute(
            insert(IdempotentRequest)
            .values(
                principal=caller,
                key=key,
                method="POST",
                path=path,
                fingerprint=fingerprint,
                created_at=datetime.now(UTC),
            )
            .on_conflict_do_nothing()
            .returning(col(IdempotentRequest.key))
        ).first()
        if inserted is not None:
            return True, None
        stored = session.get(IdempotentRequest, (caller, key))
        if stored is not None:
            session.expunge(stored)
        return False, stored


def _settle(engine: Engine, caller: str, key: str, code: int, body: bytes) -> None:
    """Keep a final answer; forget the key after a server error so a retry can run."""
    with Session(engine) as session, session.begin():
        row = session.get(IdempotentRequest, (caller, key), with_for_update=True)
        if row is None:
            return
        if code >= 500:
            session.execute(
                delete(IdempotentRequest).where(
                    col(IdempotentRequest.principal) == caller, col(IdempotentRequest.key) == key
                )
            )
            return
        row.status_code = code
        row.body = _json_or_text(body)
        session.add(row)


def _json_or_text(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return {"text": body.decode(errors="replace")}


async def _replay(
    stored: IdempotentRequest | None, fingerprint: str, scope: Scope, receive: Receive, send: Send
) -> None:
    response: Response
    if stored is None or stored.fingerprint != fingerprint:
        response = problem(
            422, "this Idempotency-Key was used for a different request; use a new key"
        )
    elif stored.status_code is None:
        response = problem(409, "a request with this Idempotency-Key is still in progress")
    else:
        response = Response(
            content=json.dumps(stored.body),
            status_code=stored.status_code,
            media_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )
    await response(scope, receive, send)
