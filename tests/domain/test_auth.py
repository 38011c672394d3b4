"""Bearer tokens: a minted token reads back; anything forged, expired or malformed is refused.

`read_token` checks `exp` and `iat` against the wall clock (PyJWT), so tokens meant to be
valid are minted at a fixed past instant with a long lifetime, and expired ones at a fixed
instant long gone; no test depends on how long it runs.
"""

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from core.auth import ALGORITHM, InvalidToken, mint_token, read_token
from domain.access import Role

# 64 bytes, so PyJWT does not warn about short HMAC keys even for HS512.
SECRET = "s" * 64
OTHER_SECRET = "o" * 64
ISSUED_AT = datetime(2020, 1, 1, tzinfo=UTC)
LONG_TTL = timedelta(days=365 * 100)
FAR_FUTURE_EXP = int(datetime(2120, 1, 1, tzinfo=UTC).timestamp())


def _valid_token(
    *, roles: list[str] | None = None, org: str | None = None, name: str = "", secret: str = SECRET
) -> str:
    return mint_token(
        secret=secret,
        sub="user-1",
        roles=["applicant"] if roles is None else roles,
        now=ISSUED_AT,
        ttl=LONG_TTL,
        name=name,
        org=org,
    )


def _claims(**overrides: object) -> dict[str, object]:
    claims: dict[str, object] = {"sub": "user-1", "roles": ["admin"], "exp": FAR_FUTURE_EXP}
    claims.update(overrides)
    return claims


def _b64url(data: dict[str, object]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_a_minted_token_reads_back_as_the_same_principal() -> None:
    token = _valid_token(roles=["reviewer", "assigner"], org="org-7", name="Ada Lovelace")

    who = read_token(token, secret=SECRET)

    assert who.sub == "user-1"
    assert who.roles == frozenset({Role.REVIEWER, Role.ASSIGNER})
    assert who.org == "org-7"
    assert who.name == "Ada Lovelace"


def test_a_token_without_a_name_or_org_reads_back_the_sub_as_name_and_no_org() -> None:
    who = read_token(_valid_token(), secret=SECRET)

    assert who.name == "user-1"
    assert who.org is None


@pytest.mark.parametrize("role", list(Role))
def test_every_role_survives_the_round_trip(role: Role) -> None:
    assert read_token(_valid_token(roles=[role.value]), secret=SECRET).roles == {role}


def test_a_token_with_no_roles_reads_back_with_none() -> None:
    assert read_token(_valid_token(roles=[]), secret=SECRET).roles == frozenset()


def test_a_minted_token_is_hs256_and_carries_its_lifetime() -> None:
    token = _valid_token()

    assert jwt.get_unverified_header(token)["alg"] == ALGORITHM == "HS256"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iat"] == int(ISSUED_AT.timestamp())
    assert claims["exp"] == int((ISSUED_AT + LONG_TTL).timestamp())


def test_minting_a_token_with_an_unknown_role_is_refused() -> None:
    with pytest.raises(ValueError, match="wizard"):
        _valid_token(roles=["wizard"])


def test_an_expired_token_is_refused() -> None:
    token = mint_token(
        secret=SECRET,
        sub="user-1",
        roles=["admin"],
        now=datetime(2001, 1, 1, tzinfo=UTC),
        ttl=timedelta(hours=1),
    )

    with pytest.raises(InvalidToken, match="expired"):
        read_token(token, secret=SECRET)


def test_a_token_issued_in_the_future_is_refused() -> None:
    token = mint_token(
        secret=SECRET,
        sub="user-1",
        roles=["admin"],
        now=datetime(2200, 1, 1, tzinfo=UTC),
        ttl=timedelta(hours=1),
    )

    with pytest.raises(InvalidToken, match="not yet valid"):
        read_token(token, secret=SECRET)


def test_a_token_signed_with_another_secret_is_refused() -> None:
    with pytest.raises(InvalidToken, match="not valid"):
        read_token(_valid_token(secret=OTHER_SECRET), secret=SECRET)


def test_an_alg_none_token_is_refused() -> None:
    header = _b64url({"alg": "none", "typ": "JWT"})
    token = f"{header}.{_b64url(_claims())}."

    with pytest.raises(InvalidToken, match="not valid"):
        read_token(token, secret=SECRET)


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_a_token_signed_with_the_right_secret_but_another_algorithm_is_refused(
    algorithm: str,
) -> None:
    token = jwt.encode(_claims(), SECRET, algorithm)

    with pytest.raises(InvalidToken, match="not valid"):
        read_token(token, secret=SECRET)


def test_a_token_whose_payload_was_altered_is_refused() -> None:
    header, _, signature = _valid_token().split(".")
    forged = f"{header}.{_b64url(_claims(roles=['admin']))}.{signature}"

    with pytest.raises(InvalidToken, match="not valid"):
        read_token(forged, secret=SECRET)


@pytest.mark.parametrize("missing", ["exp", "sub"])
def test_a_token_missing_exp_or_sub_is_refused(missing: str) -> None:
    claims = _claims()
    del claims[missing]

    with pytest.raises(InvalidToken, match=missing):
        read_token(jwt.encode(claims, SECRET, ALGORITHM), secret=SECRET)


@pytest.mark.parametrize("roles", [["wizard"], ["admin", "Admin"], ["ADMIN"], [1], [None]])
def test_a_token_naming_an_unknown_role_is_refused(roles: list[object]) -> None:
    token = jwt.encode(_claims(roles=roles), SECRET, ALGORITHM)

    with pytest.raises(InvalidToken, match="unknown role"):
        read_token(token, secret=SECRET)


@pytest.mark.parametrize("roles", ["admin", {"admin": True}, None, 1])
def test_a_token_whose_roles_are_not_a_list_is_refused(roles: object) -> None:
    token = jwt.encode(_claims(roles=roles), SECRET, ALGORITHM)

    with pytest.raises(InvalidToken, match="roles claim must be a list"):
        read_token(token, secret=SECRET)


def test_a_token_whose_sub_is_not_a_string_is_refused() -> None:
    token = jwt.encode(_claims(sub=42), SECRET, ALGORITHM)

    with pytest.raises(InvalidToken):
        read_token(token, secret=SECRET)


def test_a_token_without_roles_reads_back_with_none() -> None:
    claims = _claims()
    del claims["roles"]

    assert read_token(jwt.encode(claims, SECRET, ALGORITHM), secret=SECRET).roles == frozenset()


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "a.b", "...."])
def test_a_malformed_token_is_refused(token: str) -> None:
    with pytest.raises(InvalidToken, match="not valid"):
        read_token(token, secret=SECRET)


def test_any_token_is_refused_when_the_service_has_no_secret() -> None:
    with pytest.raises(InvalidToken, match="no AUTH_SECRET"):
        read_token(_valid_token(), secret="")
