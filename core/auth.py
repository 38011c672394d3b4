"""Bearer tokens: HS256 JWTs carrying sub, name, roles, org and exp."""

from datetime import datetime, timedelta

import jwt

from domain.access import Principal, Role

ALGORITHM = "HS256"
MAX_SUB_LENGTH = 128  # a user id: what audit rows and idempotency keys store
MAX_NAME_LENGTH = 200


class InvalidToken(Exception):
    """The token is missing, expired, forged or malformed (HTTP 401)."""


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
    sub = _claim_text(claims, "sub", MAX_SUB_LENGTH, required=True)
    name = _claim_text(claims, "name", MAX_NAME_LENGTH, required=False)
    org = _claim_text(claims, "org", MAX_SUB_LENGTH, required=False)
    roles = claims.get("roles", [])
    if not isinstance(roles, list):
        raise InvalidToken("the token's roles claim must be a list")
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
