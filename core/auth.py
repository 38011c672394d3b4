"""Bearer tokens: JWTs carrying sub, name, roles, org and exp, signed HS256 with AUTH_SECRET
or RS256/ES256 by an identity provider whose keys are published at AUTH_JWKS_URL."""

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import jwt

from core.settings import Settings
from domain.access import Principal, Role

ALGORITHM = "HS256"
JWKS_ALGORITHMS = frozenset({"RS256", "ES256"})
MAX_SUB_LENGTH = 128  # a user id: what audit rows and idempotency keys store
MAX_NAME_LENGTH = 200


class InvalidToken(Exception):
    """The token is missing, expired, forged or malformed (HTTP 401)."""


class KeysUnavailable(Exception):
    """The identity provider's keys could not be fetched (HTTP 503: the token may be fine)."""


TokenReader = Callable[[str], Awaitable[Principal]]


def mint_token(
    *,
    secret: str,
    sub: str,
    roles: list[str],
    now: datetime,
    ttl: timedelta,
    name: str = "",
    org: str | None = None,
) -> str:
    """Sign a token for `sub` with `roles` valid for `ttl` from `now`."""
    claims: dict[str, object] = {
        "sub": sub,
        "name": name or sub,
        "roles": [Role(role).value for role in roles],
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    if org:
        claims["org"] = org
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(token: str, *, secret: str) -> Principal:
    """Verify the signature and expiry (HS256 only, so `alg: none` is refused)."""
    return _verified_secret_token(token, secret=secret)[0]


def _verified_secret_token(token: str, *, secret: str) -> tuple[Principal, int]:
    """The caller `token` names, and its `exp` (epoch seconds)."""
    if not secret:
        raise InvalidToken("the service has no AUTH_SECRET")
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("the token has expired") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"the token is not valid: {exc}") from exc
    exp = claims["exp"]
    return _principal(claims, unknown_roles_refused=True), exp if isinstance(exp, int) else 0


def _principal(claims: dict[str, object], *, unknown_roles_refused: bool) -> Principal:
    """The caller the verified claims name (an identity provider's other roles are ignored)."""
    sub = _claim_text(claims, "sub", MAX_SUB_LENGTH, required=True)
    name = _claim_text(claims, "name", MAX_NAME_LENGTH, required=False)
    org = _claim_text(claims, "org", MAX_SUB_LENGTH, required=False)
    roles = claims.get("roles", [])
    if not isinstance(roles, list):
        raise InvalidToken("the token's roles claim must be a list")
    known = {role.value for role in Role}
    if not unknown_roles_refused:
        roles = [role for role in roles if role in known]
    try:
        parsed = frozenset(Role(role) for role in roles)
    except ValueError as exc:
        raise InvalidToken(f"the token names an unknown role: {exc}") from exc
    return Principal(sub=sub, roles=parsed, name=name, org=org or None)


def _claim_text(claims: dict[str, object], name: str, limit: int, *, required: bool) -> str:
    """A claim as text a database can store: short, no control characters or surrogates."""
    value = claims.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise InvalidToken(f"the token's {name} claim must be text")
    text = str(value)
    if not (0 < len(text) <= limit) and (required or text):
        raise InvalidToken(f"the token's {name} claim must be 1 to {limit} characters")
    if any(ord(char) < 0x20 or 0xD800 <= ord(char) <= 0xDFFF or ord(char) == 0x7F for char in text):
        raise InvalidToken(f"the token's {name} claim holds a control character")
    return text


class SecretTokens:
    """HS256 tokens, each verified once: a token seen before is answered from memory while
    its `exp` is ahead (the same bytes carry the same verified claims; the secret is fixed
    for the process). An expired one, or one not seen, is verified in full."""

    MAX_ENTRIES = 4096

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self._seen: dict[str, tuple[Principal, int]] = {}

    async def __call__(self, token: str) -> Principal:
        if (seen := self._seen.get(token)) is not None and time.time() < seen[1]:
            return seen[0]
        principal, exp = _verified_secret_token(token, secret=self.secret)
        if len(self._seen) >= self.MAX_ENTRIES:  # bounded: forget them all, verify again
            self._seen.clear()
        self._seen[token] = (principal, exp)
        return principal


class JwksTokens:
    """Tokens an identity provider signed: the key by `kid` from its JWKS (cached), the
    algorithm the key's own (RS256 or ES256), `iss` and `aud` required and checked."""

    def __init__(
        self, *, url: str, issuer: str, audience: str, cache_s: int, refetch_every_s: float = 30
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.keys = jwt.PyJWKClient(url, cache_keys=False, lifespan=cache_s, timeout=5)
        self.refetch_every_s = refetch_every_s
        self._refetched_at = -refetch_every_s
        self._lock = threading.Lock()

    async def __call__(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"the token is not valid: {exc}") from exc
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in JWKS_ALGORITHMS:
            raise InvalidToken(f"the token's algorithm {algorithm!r} is not RS256 or ES256")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("the token names no signing key (kid)")
        key = await asyncio.to_thread(self._key, kid)
        if key.algorithm_name != algorithm:
            raise InvalidToken(f"signing key {kid!r} is not a {algorithm} key")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                issuer=self.issuer,
                audience=self.audience,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("the token has expired") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"the token is not valid: {exc}") from exc
        return _principal(claims, unknown_roles_refused=False)

    def _key(self, kid: str) -> jwt.PyJWK:
        """The key named `kid`; an unknown one refetches the set, at most every few seconds
        (a stream of made-up kids must not hammer the identity provider)."""
        if found := self._find(kid, refresh=False):
            return found
        with self._lock:
            may_refetch = time.monotonic() - self._refetched_at >= self.refetch_every_s
            if may_refetch:
                self._refetched_at = time.monotonic()
        if may_refetch and (found := self._find(kid, refresh=True)):
            return found
        raise InvalidToken(f"the identity provider has no signing key {kid!r}")

    def _find(self, kid: str, *, refresh: bool) -> jwt.PyJWK | None:
        try:
            keys = self.keys.get_signing_keys(refresh=refresh)
        except (jwt.PyJWTError, ValueError) as exc:  # unreachable, or not a usable JWKS
            raise KeysUnavailable(f"the identity provider's keys: {exc}") from exc
        return next((key for key in keys if key.key_id == kid), None)


def token_reader(settings: Settings) -> TokenReader:
    """How this service verifies tokens: the JWKS when AUTH_JWKS_URL is set, else HS256."""
    if not settings.auth_jwks_url:
        return SecretTokens(settings.auth_secret)
    if not (settings.auth_issuer and settings.auth_audience):
        raise ValueError("AUTH_JWKS_URL needs AUTH_ISSUER and AUTH_AUDIENCE (tokens are checked)")
    return JwksTokens(
        url=settings.auth_jwks_url,
        issuer=settings.auth_issuer,
        audience=settings.auth_audience,
        cache_s=settings.auth_jwks_cache_s,
    )
