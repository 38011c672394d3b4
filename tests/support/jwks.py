"""An identity provider for tests: RSA and EC keys, and their JWKS served over HTTP."""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ISSUER = "https://idp.casework.test/"
AUDIENCE = "casework-api"


@dataclass
class IdentityProvider:
    """Signing keys by kid, the JWKS it publishes, and how often that was fetched."""

    rsa_key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    ec_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    fetches: int = 0
    url: str = ""

    def jwks(self) -> dict[str, object]:
        """The public keys, as an identity provider publishes them."""
        rsa_jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.rsa_key.public_key(), as_dict=True)
        ec_jwk = jwt.algorithms.ECAlgorithm.to_jwk(self.ec_key.public_key(), as_dict=True)
        return {
            "keys": [
                {**rsa_jwk, "kid": "rsa-1", "use": "sig", "alg": "RS256"},
                {**ec_jwk, "kid": "ec-1", "use": "sig", "alg": "ES256"},
            ]
        }

    def token(self, algorithm: str = "RS256", *, kid: str | None = None, **claims: object) -> str:
        """A token signed with this provider's key for `algorithm`; `claims` override."""
        body: dict[str, object] = {
            "sub": "idp-user-1",
            "roles": ["admin"],
            "iss": ISSUER,
            "aud": AUDIENCE,
            "exp": datetime.now(UTC) + timedelta(minutes=10),
            **claims,
        }
        key = self.rsa_key if algorithm == "RS256" else self.ec_key
        headers = {"kid": kid or ("rsa-1" if algorithm == "RS256" else "ec-1")}
        return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm, headers)


@contextmanager
def serving(provider: IdentityProvider) -> Iterator[IdentityProvider]:
    """Serve `provider.jwks()` on a free local port while the block runs."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            provider.fetches += 1
            body = json.dumps(provider.jwks()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    provider.url = f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
