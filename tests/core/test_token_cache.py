"""HS256 tokens are verified once per process, but never trusted past their `exp`, never for
other bytes, and never in unbounded memory (`core.auth.SecretTokens`)."""

from datetime import UTC, datetime, timedelta

import pytest

from core import auth
from core.auth import InvalidToken, SecretTokens, mint_token, token_reader
from core.settings import Settings
from domain.access import Principal, Role

SECRET = "s" * 64
ISSUED_AT = datetime(2020, 1, 1, tzinfo=UTC)  # a fixed past instant, a long lifetime
LONG_TTL = timedelta(days=365 * 100)


def _token(sub: str = "user-1", secret: str = SECRET) -> str:
    return mint_token(secret=secret, sub=sub, roles=["admin"], now=ISSUED_AT, ttl=LONG_TTL)


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every full verification `SecretTokens` asks for, by token."""
    seen: list[str] = []
    real = auth._verified_secret_token

    def counting(token: str, *, secret: str) -> tuple[Principal, int]:
        seen.append(token)
        return real(token, secret=secret)

    monkeypatch.setattr(auth, "_verified_secret_token", counting)
    return seen


def test_the_service_reads_hs256_tokens_with_the_cache() -> None:
    assert isinstance(token_reader(Settings(auth_secret=SECRET)), SecretTokens)


async def test_a_token_seen_before_is_not_verified_again(verifications: list[str]) -> None:
    tokens = SecretTokens(SECRET)
    first = await tokens(_token())
    again = await tokens(_token())
    assert first == again
    assert first.sub == "user-1"
    assert first.roles == {Role.ADMIN}
    assert verifications == [_token()]


async def test_a_cached_token_is_verified_again_once_its_exp_has_passed(
    verifications: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = SecretTokens(SECRET)
    await tokens(_token())
    after_exp = (ISSUED_AT + LONG_TTL + timedelta(seconds=1)).timestamp()
    monkeypatch.setattr("core.auth.time.time", lambda: after_exp)
    await tokens(_token())
    assert verifications == [_token(), _token()]


async def test_other_bytes_are_verified_in_full_and_a_forgery_is_refused() -> None:
    tokens = SecretTokens(SECRET)
    good = _token()
    await tokens(good)
    forged = _token(secret="o" * 64)  # the same claims, another key's signature
    assert forged != good
    with pytest.raises(InvalidToken):
        await tokens(forged)
    head, payload, signature = good.split(".")
    other = "B" if signature[0] == "A" else "A"
    with pytest.raises(InvalidToken):
        await tokens(f"{head}.{payload}.{other}{signature[1:]}")


async def test_the_cache_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SecretTokens, "MAX_ENTRIES", 3)
    tokens = SecretTokens(SECRET)
    for n in range(10):
        assert (await tokens(_token(sub=f"user-{n}"))).sub == f"user-{n}"
        assert len(tokens._seen) <= 3
