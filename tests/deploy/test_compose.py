"""compose.yaml stays in step with the Kubernetes manifests (the dev overlay)."""

import pytest
import yaml

from tests.deploy.conftest import REPO, SERVICES, of_kind, pod_spec

BACKENDS = {"rabbitmq", "mongodb", "elasticsearch"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "compose.yaml").read_text())["services"]


def test_compose_runs_the_same_processes_as_the_manifests(compose, docs):
    deployments = of_kind(docs["dev"], "Deployment")
    assert set(compose) == set(deployments) | BACKENDS
    assert set(of_kind(docs["dev"], "StatefulSet")) == BACKENDS


# A laptop's gateway signs development tokens with the public default secret, which the gateway
# accepts only in development mode; the dev overlay brings its own secret instead.
LAPTOP_ONLY = {"CASEWIRE_DEV_MODE"}


def test_compose_runs_each_process_with_the_manifests_command_and_environment(compose, docs):
    deployments = of_kind(docs["dev"], "Deployment")
    settings = set(of_kind(docs["dev"], "ConfigMap")["casewire-settings"]["data"])
    for name, deployment in deployments.items():
        container = pod_spec(deployment)["containers"][0]
        assert compose[name].get("command") == container.get("args"), name
        k8s_env = settings | {e["name"] for e in container.get("env", [])}
        assert set(compose[name]["environment"]) - LAPTOP_ONLY == k8s_env, name
        assert compose[name]["user"] == "10001:10001" and compose[name]["read_only"] is True
    for name in SERVICES:
        probe = pod_spec(deployments[name])["containers"][0]["readinessProbe"]["exec"]["command"]
        assert compose[name]["healthcheck"]["test"] == ["CMD", *probe], name


def test_compose_uses_the_same_pinned_images_as_the_dev_overlay(compose, docs):
    statefulsets = of_kind(docs["dev"], "StatefulSet")
    for name in BACKENDS:
        assert compose[name]["image"] == pod_spec(statefulsets[name])["containers"][0]["image"], name
    images = {compose[name]["image"] for name in compose if name not in BACKENDS}
    tag = pod_spec(of_kind(docs["base"], "Deployment")["gateway"])["containers"][0]["image"].split(":")[-1]
    assert images == {f"casewire:{tag}"}


def test_C22_compose_gives_the_checkpoint_key_to_the_audit_service_only(compose):
    assert [
        name for name, service in compose.items() if "AUDIT_CHECKPOINT_KEY" in (service.get("environment") or {})
    ] == ["audit"]
