"""`Idempotency-Key` on an unsafe request: a retry gets the first answer, nothing runs twice.

A key is scoped to the verified caller, the method and the path. While the first request
runs, its transaction holds an advisory lock on the key, so a retry, even one sent at
once, waits and then gets the stored answer. The answer (status, headers, body, byte for
byte) is stored and committed before it is sent, and kept 24 h. A crash leaves no answer
behind: the retry runs again, and what it does must come out the same. Workflow commands
derive their update (and new entity) ids from the key, so Temporal answers the first
outcome; a change the API wrote itself leaves an `IdempotentChange` row in the same
transaction, so a retry after a lost answer is told the change happened.
"""

import hashlib
import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg
from sqlalchemy import Connection, Engine, delete, event, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.sql.elements import TextClause
from sqlmodel import Session, col
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import RETRY_LATER, problem
from core.settings import Settings
from models.idempotency import IdempotentChange, IdempotentRequest

HEADER = "idempotency-key"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_KEY_LENGTH = 200
_VALID_KEY = re.compile(rf"[\x21-\x7e]{{1,{MAX_KEY_LENGTH}}}")
# Answers carry these only for the request they answered; a replay gets its own.
_NOT_REPLAYED = frozenset({b"x-request-id", b"date", b"server", b"set-cookie"})
REPLAYED = (b"idempotent-replayed", b"true")
_WROTE = "casework.wrote"
_RERUN = "casework.rerun_on_retry"


@dataclass(frozen=True)
class Claim:
    """One keyed request: who, which key, which method and path (hashed as `scope`)."""

    principal: str
    key: str
    method: str
    path: str
    ttl: timedelta = timedelta(days=1)
    scope: str = field(init=False)
    digest: str = field(init=False)

    def __post_init__(self) -> None:
        scope = hashlib.sha256(f"{self.method} {self.path}".encode()).hexdigest()
        object.__setattr__(self, "scope", scope)
        whole = "\x1f".join((self.principal, scope, self.key))
        object.__setattr__(self, "digest", hashlib.sha256(whole.encode()).hexdigest())

    @property
    def command_id(self) -> str:
        """A Temporal update id that is the same for every retry of this request."""
        return f"key-{self.digest[:32]}"

    @property
    def entity_id(self) -> str:
        """A UUID for what this request creates, the same for every retry."""
        return str(uuid.UUID(self.digest[:32]))

    @property
    def lock_id(self) -> int:
        """The advisory lock held while the request runs."""
        return int.from_bytes(bytes.fromhex(self.digest[:16]), "big", signed=True)

    def where(self) -> dict[str, str]:
        """The primary key of its rows."""
        return {"principal": self.principal, "key": self.key, "scope": self.scope}


current_claim: ContextVar[Claim | None] = ContextVar("idempotency_claim", default=None)


@dataclass
class Answer:
    """A response held back until it is stored."""

    status: int = 500
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)

    async def send(self, send: Send, *, extra: list[tuple[bytes, bytes]] | None = None) -> None:
        """Send it whole."""
        headers = [*self.headers, *(extra or [])]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": bytes(self.body), "more_body": False})


async def guard(app: ASGIApp, principal: str, scope: Scope, receive: Receive, send: Send) -> None:
    """Run `app` once per key: replay a stored answer, wait for one in progress."""
    key = Headers(scope=scope).get(HEADER)
    if scope["method"] not in UNSAFE_METHODS or key is None:
        await app(scope, receive, send)
        return
    if not _VALID_KEY.fullmatch(key):
        await _invalid_key()(scope, receive, send)
        return
    state = scope["app"].state
    claim = Claim(
        principal=principal,
        key=key,
        method=scope["method"],
        path=scope["path"],
        ttl=timedelta(seconds=state.settings.idempotency_ttl_s),
    )
    body = await _read_body(receive)
    fingerprint = hashlib.sha256(scope.get("query_string", b"") + b"\n" + body).hexdigest()
    now = datetime.now(UTC)
    opened = await run_in_threadpool(_open, state.idempotency_engine, claim, state.settings, now)
    if opened is None:
        busy = problem(409, "a request with this Idempotency-Key is still running; retry shortly")
        busy.headers.update(RETRY_LATER)
        await busy(scope, receive, send)
        return
    lock, earlier = opened
    try:
        await _once(app, claim, body, fingerprint, lock, earlier, now, scope, receive, send)
    finally:
        await run_in_threadpool(lock.close)  # rolls back unless the answer was committed


async def _once(
    app: ASGIApp,
    claim: Claim,
    body: bytes,
    fingerprint: str,
    lock: Connection,
    earlier: IdempotentRequest | bool,
    now: datetime,
    scope: Scope,
    receive: Receive,
    send: Send,
) -> None:
    if isinstance(earlier, IdempotentRequest):
        await _replay(earlier, fingerprint, scope, receive, send)
        return
    if earlier:
        await _lost(scope, receive, send)
        return
    answer = await _run(app, claim, body, scope, receive)
    if answer.status < 500:  # a server error is not an answer: a retry runs again
        await run_in_threadpool(_keep, lock, claim, fingerprint, answer, now)
    await answer.send(send)


async def _run(app: ASGIApp, claim: Claim, body: bytes, scope: Scope, receive: Receive) -> Answer:
    answer = Answer()
    delivered = False

    async def replay_body() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def capture(message: Message) -> None:
        if message["type"] == "http.response.start":
            answer.status = message["status"]
            answer.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            answer.body += message.get("body", b"")

    token = current_claim.set(claim)
    try:
        await app(scope, replay_body, capture)
    finally:
        current_claim.reset(token)
    return answer


async def _read_body(receive: Receive) -> bytes:
    chunks = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return bytes(chunks)
        chunks += message.get("body", b"")
        if not message.get("more_body", False):
            return bytes(chunks)


def _open(
    engine: Engine, claim: Claim, settings: Settings, now: datetime
) -> tuple[Connection, IdempotentRequest | bool] | None:
    """The key's lock and what an earlier attempt left: its stored answer, else whether it
    committed a change (True) or nothing (False); None while another request holds the lock.
    One trip to the thread pool for the three steps a keyed request always takes."""
    lock = _lock(engine, claim, settings)
    if lock is None:
        return None
    try:
        stored = _stored(lock, claim, now)
        return lock, stored if stored is not None else _changed(lock, claim)
    except BaseException:
        lock.close()
        raise


def _lock(engine: Engine, claim: Claim, settings: Settings) -> Connection | None:
    """A connection in a transaction holding the key's lock; None while another holds it."""
    connection = engine.connect()
    try:
        connection.execute(text(f"SET LOCAL lock_timeout = '{int(settings.idempotency_wait_s)}s'"))
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": claim.lock_id})
    except sa_exc.OperationalError as error:
        connection.close()
        if isinstance(error.orig, psycopg.errors.LockNotAvailable):
            return None
        raise
    except BaseException:
        connection.close()
        raise
    return connection


def _stored(lock: Connection, claim: Claim, now: datetime) -> IdempotentRequest | None:
    """The answer kept for the key; an expired one is forgotten with its change marker."""
    row = lock.execute(select(IdempotentRequest).filter_by(**claim.where())).first()
    if row is None:
        return None
    stored = IdempotentRequest.model_validate(row._mapping)
    if stored.expires_at > now:
        return stored
    # Forgotten at once, outside the lock's transaction: the route's own transaction may
    # mark the key again, and must not wait for ours.
    with lock.engine.begin() as connection:
        for table in (IdempotentRequest, IdempotentChange):
            connection.execute(delete(table).filter_by(**claim.where()))
    return None


def _changed(lock: Connection, claim: Claim) -> bool:
    """Whether an earlier attempt with this key committed a change of the API's own."""
    found = lock.execute(
        select(col(IdempotentChange.committed_at)).filter_by(**claim.where())
    ).first()
    return found is not None


def _keep(
    lock: Connection,
    claim: Claim,
    fingerprint: str,
    answer: Answer,
    now: datetime,
) -> None:
    headers = [
        [name.decode("latin-1"), value.decode("latin-1")]
        for name, value in answer.headers
        if name.lower() not in _NOT_REPLAYED
    ]
    lock.execute(
        insert(IdempotentRequest).values(
            **claim.where(),
            method=claim.method,
            path=claim.path,
            fingerprint=fingerprint,
            status_code=answer.status,
            headers=headers,
            body=bytes(answer.body),
            created_at=now,
            expires_at=now + claim.ttl,
        )
    )
    lock.commit()


async def _replay(
    stored: IdempotentRequest, fingerprint: str, scope: Scope, receive: Receive, send: Send
) -> None:
    if stored.fingerprint != fingerprint:
        refused = problem(
            422,
            "this Idempotency-Key was used for a different request; use a new key",
            errors=[{"field": "Idempotency-Key", "message": "already used for another body"}],
        )
        await refused(scope, receive, send)
        return
    headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in stored.headers]
    answer = Answer(status=stored.status_code, headers=headers, body=bytearray(stored.body))
    await answer.send(send, extra=[REPLAYED])


async def _lost(scope: Scope, receive: Receive, send: Send) -> None:
    lost = problem(
        409,
        "the first request with this Idempotency-Key made its change, but its answer was lost "
        "when the service stopped; read the resource to see it",
        allowed=[],
    )
    await lost(scope, receive, send)


def _invalid_key() -> Response:
    return problem(
        422,
        "the Idempotency-Key header is not valid",
        errors=[
            {
                "field": "Idempotency-Key",
                "message": f"1 to {MAX_KEY_LENGTH} visible ASCII characters",
            }
        ],
    )


def purge(engine: Engine, *, now: datetime) -> int:
    """Forget expired answers and change markers; returns how many rows went."""
    removed = 0
    with engine.begin() as connection:
        for table in (IdempotentRequest, IdempotentChange):
            result = connection.execute(delete(table).where(col(table.expires_at) <= now))
            removed += result.rowcount
    return removed


def rerun_on_retry(session: Session) -> None:
    """The session writes only what is keyed by the request's own ids: a retry runs again.

    For a route that writes, then starts a workflow: a crash (or Temporal down) between
    the two is healed by the retry, which writes nothing twice and starts the workflow,
    where a marked key would only be told that its answer was lost.
    """
    session.info[_RERUN] = True


# A change written by the API itself inside a keyed request marks the key in the same
# transaction (every Session of the API process; the claim is None outside such requests).
@event.listens_for(Session, "before_commit")
def _mark_change(session: Session) -> None:
    claim = current_claim.get()
    wrote = session.info.get(_WROTE) or session.new or session.dirty or session.deleted
    if claim is None or not wrote or session.info.get(_RERUN):
        return
    at = datetime.now(UTC)
    session.execute(
        insert(IdempotentChange)
        .values(**claim.where(), committed_at=at, expires_at=at + claim.ttl)
        .on_conflict_do_nothing()
    )


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: object) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete or _is_text_write(state.statement):
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _settled(session: Session) -> None:
    session.info.pop(_WROTE, None)


def _is_text_write(statement: object) -> bool:
    if not isinstance(statement, TextClause):
        return False
    words = str(statement).lstrip().split(None, 1)
    return bool(words) and words[0].upper() not in {"SELECT", "WITH", "SHOW", "EXPLAIN"}
