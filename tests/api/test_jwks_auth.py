"""Tokens from an identity provider's JWKS: RS256 and ES256 accepted, everything else 401."""

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from core.auth import token_reader
from core.settings import Settings
from tests.support.infra import free_port
from tests.support.jwks import AUDIENCE, ISSUER, IdentityProvider, serving
from tests.support.tokens import SECRET, bearer

ABSENT_USER = "/v1/users/nobody-here"  # an admin route: 404 once the token is accepted


@pytest.fixture(scope="module")
def idp() -> Iterator[IdentityProvider]:
    """The identity provider, its JWKS served on a free port."""
    with serving(IdentityProvider()) as provider:
        yield provider


@pytest.fixture
async def api(
    idp: IdentityProvider, db: Engine, dev_env: WorkflowEnvironment
) -> AsyncIterator[httpx.AsyncClient]:
    """The app verifying tokens against the provider's JWKS."""
    settings = Settings(
        auth_jwks_url=idp.url,
        auth_issuer=ISSUER,
        auth_audience=AUDIENCE,
        auth_secret=SECRET,  # set too: in JWKS mode HS256 tokens must still be refused
        database_url="unused://",
    )
    app = create_app(settings, engine=db, temporal=dev_env.client)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://casework.test") as client,
    ):
        yield client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
async def test_a_token_the_provider_signed_is_accepted(
    api: httpx.AsyncClient, idp: IdentityProvider, algorithm: str
) -> None:
    response = await api.get(ABSENT_USER, headers=auth(idp.token(algorithm)))

    assert response.status_code == 404, response.text


async def test_its_roles_decide_and_the_providers_other_roles_are_ignored(
    api: httpx.AsyncClient, idp: IdentityProvider
) -> None:
    applicant = idp.token(roles=["applicant", "offline_access"])
    admin = idp.token(roles=["admin", "uma_authorization"])

    assert (await api.get(ABSENT_USER, headers=auth(applicant))).status_code == 403
    assert (await api.get(ABSENT_USER, headers=auth(admin))).status_code == 404


def _unsigned(header: dict[str, object], claims: dict[str, object], key: bytes) -> str:
    """A token signed HS256 with `key`: what an attacker holding the public key can make."""

    def part(data: dict[str, object]) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=")

    signing_input = part(header) + b"." + part(claims)
    signature = hmac.new(key, signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + base64.urlsafe_b64encode(signature).rstrip(b"=")).decode()


def _claims() -> dict[str, object]:
    exp = int((datetime.now(UTC) + timedelta(minutes=5)).timestamp())
    return {"sub": "mallory", "roles": ["admin"], "iss": ISSUER, "aud": AUDIENCE, "exp": exp}


REFUSED = [
    "wrong issuer",
    "no issuer",
    "wrong audience",
    "no audience",
    "expired",
    "unknown kid",
    "RS256 under the EC key's kid",
    "signed by a stranger",
    "alg none",
    "HS256 keyed with the public key",
    "HS256 with AUTH_SECRET",
    "not a JWT",
]


def _refused_tokens(idp: IdentityProvider) -> dict[str, str]:
    public_pem = idp.rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {
        "wrong issuer": idp.token(iss="https://evil.example/"),
        "no issuer": idp.token(iss=None),
        "wrong audience": idp.token(aud="another-app"),
        "no audience": idp.token(aud=None),
        "expired": idp.token(exp=datetime.now(UTC) - timedelta(minutes=1)),
        "unknown kid": idp.token(kid="rotated-away"),
        "RS256 under the EC key's kid": idp.token("RS256", kid="ec-1"),
        "signed by a stranger": jwt.encode(_claims(), stranger, "RS256", {"kid": "rsa-1"}),
        "alg none": jwt.encode(_claims(), "", "none", {"kid": "rsa-1"}),
        "HS256 keyed with the public key": _unsigned(
            {"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}, _claims(), public_pem
        ),
        "HS256 with AUTH_SECRET": jwt.encode(_claims(), SECRET, "HS256", {"kid": "rsa-1"}),
        "not a JWT": "not-a-jwt",
    }


@pytest.mark.parametrize("case", REFUSED)
async def test_a_token_it_did_not_sign_for_us_is_401(
    api: httpx.AsyncClient, idp: IdentityProvider, case: str
) -> None:
    response = await api.get(ABSENT_USER, headers=auth(_refused_tokens(idp)[case]))

    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"]


async def test_the_cli_tokens_of_the_secret_are_refused_in_jwks_mode(
    api: httpx.AsyncClient,
) -> None:
    response = await api.get(ABSENT_USER, headers=bearer("admin-1", "admin"))

    assert response.status_code == 401
    assert "algorithm" in response.json()["detail"]


async def test_the_token_is_checked_before_the_body_is_read(
    api: httpx.AsyncClient, idp: IdentityProvider
) -> None:
    response = await api.post(
        "/v1/users",
        content=b'{"broken": ',
        headers={**auth(idp.token(aud="another-app")), "Content-Type": "application/json"},
    )

    assert response.status_code == 401


async def test_the_keys_are_fetched_once_and_made_up_kids_do_not_hammer_the_provider(
    api: httpx.AsyncClient, idp: IdentityProvider
) -> None:
    await api.get(ABSENT_USER, headers=auth(idp.token()))
    before = idp.fetches
    for _ in range(3):
        assert (await api.get(ABSENT_USER, headers=auth(idp.token("ES256")))).status_code == 404
    for number in range(5):
        made_up = idp.token(kid=f"made-up-{number}")
        assert (await api.get(ABSENT_USER, headers=auth(made_up))).status_code == 401

    assert idp.fetches - before <= 1  # at most one refetch for the unknown kids


class KeylessProvider(IdentityProvider):
    """A provider whose JWKS publishes no key at all (misconfigured)."""

    def jwks(self) -> dict[str, object]:
        return {"keys": []}


@pytest.mark.parametrize("broken", ["unreachable", "no keys"])
async def test_a_provider_without_usable_keys_is_503_not_a_bad_token(
    idp: IdentityProvider, db: Engine, dev_env: WorkflowEnvironment, broken: str
) -> None:
    with serving(KeylessProvider()) as keyless:
        url = keyless.url if broken == "no keys" else f"http://127.0.0.1:{free_port()}/jwks"
        response = await _get_with(url, idp.token(), db, dev_env)

    assert response.status_code == 503
    assert response.headers["retry-after"]


async def _get_with(
    url: str, token: str, db: Engine, dev_env: WorkflowEnvironment
) -> httpx.Response:
    settings = Settings(
        auth_jwks_url=url,
        auth_issuer=ISSUER,
        auth_audience=AUDIENCE,
        database_url="unused://",
    )
    app = create_app(settings, engine=db, temporal=dev_env.client)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://casework.test") as client,
    ):
        return await client.get(ABSENT_USER, headers=auth(token))


def test_a_jwks_without_issuer_and_audience_will_not_start(idp: IdentityProvider) -> None:
    with pytest.raises(ValueError, match="AUTH_ISSUER and AUTH_AUDIENCE"):
        token_reader(Settings(auth_jwks_url=idp.url, auth_issuer=ISSUER))
