"""`cli.py token`: how long the token it mints is valid (TOKEN_TTL_S, or --hours)."""

import jwt
import pytest

from tests.cli.conftest import invoke

SECRET = "s" * 32


def _lifetime_s(env: dict[str, str], *args: str) -> int:
    minted = invoke({"AUTH_SECRET": SECRET, **env}, "token", "--sub", "rita", "--role", "qa", *args)
    assert minted.exit_code == 0, minted.output
    claims = jwt.decode(minted.stdout.strip(), SECRET, algorithms=["HS256"])
    return int(claims["exp"]) - int(claims["iat"])


@pytest.mark.parametrize(
    ("env", "args", "lifetime_s"),
    [
        ({}, (), 12 * 3600),
        ({"TOKEN_TTL_S": "900"}, (), 900),
        ({"TOKEN_TTL_S": "900"}, ("--hours", "3"), 3 * 3600),
        ({}, ("--hours", "1"), 3600),
    ],
    ids=["default-12h", "token-ttl-s", "hours-wins", "hours"],
)
def test_a_token_lives_token_ttl_s_unless_hours_are_given(
    env: dict[str, str], args: tuple[str, ...], lifetime_s: int
) -> None:
    assert _lifetime_s(env, *args) == lifetime_s
