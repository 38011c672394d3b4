"""Bearer tokens for tests, signed with the test secret."""

from datetime import UTC, datetime, timedelta

from core.auth import mint_token

SECRET = "test-secret-that-is-long-enough-for-hs256!"


def bearer(sub: str, *roles: str, org: str | None = None) -> dict[str, str]:
    """An Authorization header for `sub` holding `roles`."""
    token = mint_token(
        secret=SECRET,
        sub=sub,
        roles=list(roles),
        org=org,
        now=datetime.now(UTC),
        ttl=timedelta(hours=1),
    )
    return {"Authorization": f"Bearer {token}"}
