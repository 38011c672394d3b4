"""The Temporal client's TLS and API-key options, built from settings and used for real."""

from pathlib import Path

import pytest
from temporalio.service import TLSConfig
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from core.temporal import connect, tls_config
from tests.support.tls import Pki, make_pki, tls_proxy


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A fresh CA with its server and client certificates."""
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A CA that signed nothing the proxy serves."""
    return make_pki(tmp_path_factory.mktemp("other"), name="someone-else-ca")


def test_no_tls_options_dial_in_the_clear() -> None:
    assert tls_config(Settings()) is False


def test_an_api_key_turns_tls_on_with_the_system_roots() -> None:
    assert tls_config(Settings(temporal_api_key="key")) is True
    assert tls_config(Settings(temporal_tls=True)) is True


def test_the_pem_files_become_the_mtls_config(pki: Pki) -> None:
    settings = Settings(
        temporal_tls_cert=pki.client_cert,
        temporal_tls_key=pki.client_key,
        temporal_tls_ca=pki.ca,
        temporal_tls_server_name="temporal.internal",
    )
    built = tls_config(settings)
    assert isinstance(built, TLSConfig)
    assert built.client_cert == pki.client_cert.read_bytes()
    assert built.client_private_key == pki.client_key.read_bytes()
    assert built.server_root_ca_cert == pki.ca.read_bytes()
    assert built.domain == "temporal.internal"


def test_a_ca_alone_verifies_the_server_without_a_client_certificate(pki: Pki) -> None:
    built = tls_config(Settings(temporal_tls_ca=pki.ca))
    assert isinstance(built, TLSConfig)
    assert built.client_cert is None
    assert built.server_root_ca_cert == pki.ca.read_bytes()


def test_a_certificate_without_its_key_is_refused(pki: Pki) -> None:
    with pytest.raises(ValueError, match="TEMPORAL_TLS_KEY go together"):
        tls_config(Settings(temporal_tls_cert=pki.client_cert))


def test_an_unreadable_file_is_named(pki: Pki) -> None:
    with pytest.raises(ValueError, match="TEMPORAL_TLS_CA: cannot read"):
        tls_config(Settings(temporal_tls_ca=pki.ca.with_name("missing.pem")))


def _mtls(pki: Pki, ca: Path, *, with_client_cert: bool = True) -> Settings:
    if not with_client_cert:
        return Settings(temporal_tls_ca=ca)
    return Settings(
        temporal_tls_ca=ca, temporal_tls_cert=pki.client_cert, temporal_tls_key=pki.client_key
    )


async def test_the_client_reaches_temporal_over_mutual_tls(
    pki: Pki, dev_env: WorkflowEnvironment
) -> None:
    upstream = dev_env.client.service_client.config.target_host
    async with tls_proxy(pki, upstream) as address:
        client = await connect(_mtls(pki, pki.ca), target=address)
        assert await client.service_client.check_health()
        assert client.namespace == "default"


async def test_without_a_client_certificate_the_server_hangs_up(
    pki: Pki, dev_env: WorkflowEnvironment
) -> None:
    upstream = dev_env.client.service_client.config.target_host
    async with tls_proxy(pki, upstream) as address:
        with pytest.raises(RuntimeError):
            await connect(_mtls(pki, pki.ca, with_client_cert=False), target=address)


async def test_a_server_signed_by_another_ca_is_not_trusted(
    pki: Pki, other_ca: Pki, dev_env: WorkflowEnvironment
) -> None:
    upstream = dev_env.client.service_client.config.target_host
    async with tls_proxy(pki, upstream) as address:
        with pytest.raises(RuntimeError, match="InvalidCertificate"):
            await connect(_mtls(pki, other_ca.ca), target=address)
