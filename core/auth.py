"""Bearer tokens: HS256 JWTs carrying sub, name, roles, org and exp."""

from datetime import datetime, timedelta

import jwt

from domain.access import Principal, Role

ALGORITHM = "HS256"


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
    roles = claims.get("roles", [])
    if not isinstance(roles, list):
        raise InvalidToken("the token's roles claim must be a list")
    try:
        parsed = frozenset(Role(role) for role in roles)
    except ValueError as exc:
        raise InvalidToken(f"the token names an unknown role: {exc}") from exc
    org = claims.get("org")
    return Principal(
        sub=str(claims["sub"]),
        roles=parsed,
        name=str(claims.get("name", "")),
        org=str(org) if org is not None else None,
    )
