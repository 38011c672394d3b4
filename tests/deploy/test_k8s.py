"""deploy/k8s/, checked offline: every manifest is valid against the Kubernetes schemas
(kubernetes-validate, strict: no unknown fields), the API and workers have their probes,
resources and secrets, workers autoscale, and the Temporal Helm values match compose."""

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from core.settings import SECRETS_DIR, TASK_QUEUE, Settings, critical_queue
from tests.support.dynamic_config import DYNAMIC_CONFIG
from worker import polled_queues, settings_for

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy/k8s"
KUBERNETES = "1.31.0"  # the oldest release still supported upstream when this was written
MANIFESTS = ["configmap.yaml", "secret.example.yaml", "api.yaml", "worker.yaml", "migrate-job.yaml"]


def _documents(name: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all((K8S / name).read_text()) if doc]


def _all() -> dict[tuple[str, str], dict[str, Any]]:
    documents = [doc for name in MANIFESTS for doc in _documents(name)]
    return {(doc["kind"], doc["metadata"]["name"]): doc for doc in documents}


def _pod(kind: str, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = _all()[(kind, name)]["spec"]["template"]["spec"]
    return spec


@pytest.mark.parametrize("name", MANIFESTS)
def test_a_manifest_is_valid_against_the_kubernetes_schema(name: str) -> None:
    for document in _documents(name):
        kubernetes_validate.validate(document, KUBERNETES, strict=True)


def test_the_validator_rejects_a_broken_manifest() -> None:
    broken = _all()[("Deployment", "casework-api")]
    broken["spec"]["replicas"] = "two"
    broken["spec"]["template"]["spec"]["containers"][0]["livenessProbes"] = {}

    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES, strict=True)


def test_kustomize_applies_the_long_running_parts() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())

    assert set(kustomization["resources"]) == {"configmap.yaml", "api.yaml", "worker.yaml"}
    for name in kustomization["resources"]:
        assert (K8S / name).exists()


def test_the_api_is_probed_on_healthz_and_readyz_and_runs_replicas() -> None:
    deployment = _all()[("Deployment", "casework-api")]
    container = _pod("Deployment", "casework-api")["containers"][0]

    assert deployment["spec"]["replicas"] >= 2
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    service = _all()[("Service", "casework-api")]
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]


def test_the_worker_is_probed_by_its_heartbeat_and_autoscales() -> None:
    container = _pod("Deployment", "casework-worker")["containers"][0]
    config = _all()[("ConfigMap", "casework")]["data"]
    autoscaler = _all()[("HorizontalPodAutoscaler", "casework-worker")]["spec"]

    assert container["livenessProbe"]["exec"]["command"] == ["python", "worker.py", "--check"]
    assert config["WORKER_HEARTBEAT_FILE"].startswith("/tmp/")
    assert autoscaler["scaleTargetRef"]["name"] == "casework-worker"
    assert autoscaler["minReplicas"] >= 2
    assert autoscaler["maxReplicas"] > autoscaler["minReplicas"]


def test_two_worker_pools_poll_the_ordinary_and_the_time_critical_queue() -> None:
    pools = {name: _pod("Deployment", name)["containers"][0] for name in WORKER_POOLS}

    polled = {
        name: polled_queues(TASK_QUEUE, settings_for(container["args"]).worker_queues)
        for name, container in pools.items()
    }
    assert polled == {
        "casework-worker": [TASK_QUEUE],
        "casework-worker-critical": [critical_queue(TASK_QUEUE)],
    }
    for name, container in pools.items():
        assert container["command"] == ["python", "worker.py"]
        assert container["livenessProbe"]["exec"]["command"] == ["python", "worker.py", "--check"]
        autoscaler = _all()[("HorizontalPodAutoscaler", name)]["spec"]
        assert autoscaler["scaleTargetRef"]["name"] == name
        assert autoscaler["minReplicas"] >= 2
        assert ("PodDisruptionBudget", name) in _all()


WORKER_POOLS = ["casework-worker", "casework-worker-critical"]
PODS = [
    ("Deployment", "casework-api"),
    ("Deployment", "casework-worker"),
    ("Deployment", "casework-worker-critical"),
    ("Job", "casework-migrate"),
]


@pytest.mark.parametrize(("kind", "name"), PODS)
def test_a_pod_runs_unprivileged_with_resources_and_the_secret_as_files(
    kind: str, name: str
) -> None:
    pod = _pod(kind, name)
    container = pod["containers"][0]

    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False  # its mount would land in ours
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert "memory" in container["resources"]["limits"]
    assert container["envFrom"] == [{"configMapRef": {"name": "casework"}}]
    mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
    assert mounts["secrets"] == str(SECRETS_DIR)
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    assert volumes["secrets"]["secret"]["secretName"] == "casework"
    assert "env" not in container  # nothing secret inline


def test_the_secret_and_config_keys_are_settings() -> None:
    fields = set(Settings.model_fields)
    secret = _all()[("Secret", "casework")]["stringData"]
    config = _all()[("ConfigMap", "casework")]["data"]

    assert set(secret) == {"database_url", "auth_secret"}
    assert set(secret) <= fields
    assert {key.lower() for key in config} <= fields


def test_the_temporal_helm_values_match_compose_and_the_shipped_dynamic_config() -> None:
    values = yaml.safe_load((K8S / "temporal-values.yaml").read_text())
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]

    def default_tag(service: str) -> str:
        return str(compose[service]["image"].split(":-")[1].rstrip("}"))

    assert values["server"]["image"]["tag"] == default_tag("temporal")
    assert values["admintools"]["image"]["tag"] == default_tag("temporal-schema")
    assert values["web"]["image"]["tag"] == default_tag("temporal-ui")
    assert values["server"]["dynamicConfig"] == yaml.safe_load(DYNAMIC_CONFIG.read_text())
    for store in values["server"]["config"]["persistence"]["datastores"].values():
        assert store["sql"]["pluginName"] == "postgres12"
        assert "password" not in store["sql"]
        assert store["sql"]["existingSecret"]
