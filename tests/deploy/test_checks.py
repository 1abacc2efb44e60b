"""The external checks CI runs: Kubernetes schemas (offline), the checkov policy scan, hadolint."""

import json

import pytest

from tests.deploy.conftest import REPO, TARGETS

# The oldest and newest Kubernetes minor versions Casewire's manifests are validated against.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")
# Custom resources of the production overlay's operators: kubernetes-validate ships no schema for them
# (their fields are checked in test_manifests.py::test_production_uses_operator_managed_tls_backends).
CUSTOM_KINDS = {
    "Elasticsearch with api version elasticsearch.k8s.elastic.co/v1",
    "RabbitmqCluster with api version rabbitmq.com/v1beta1",
}

BAD_POD = """apiVersion: v1
kind: Pod
metadata: {name: bad, namespace: casewire}
spec:
  containers:
    - name: bad
      image: busybox:latest
      securityContext: {privileged: true}
"""


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("target", list(TARGETS))
def test_rendered_manifests_validate_against_the_kubernetes_schemas(tools, rendered, target, version):
    result = tools.run(tools.bin / "kubernetes-validate", "--strict", "-k", version, rendered[target])
    assert result.returncode == 0, result.stdout + result.stderr
    unknown = [line for line in result.stdout.splitlines() if "Couldn't find schema" in line]
    assert all(any(kind in line for kind in CUSTOM_KINDS) for line in unknown), unknown
    assert "ERROR" not in result.stdout


def test_schema_validation_catches_a_wrong_field(tools, tmp_path):
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(BAD_POD.replace("containers:", "containerz:"))
    assert tools.run(tools.bin / "kubernetes-validate", "--strict", wrong).returncode != 0


def _checkov(tools, *args) -> dict:
    result = tools.run(tools.bin / "checkov", *args, "--compact", "--skip-download", "-o", "json")
    assert result.stdout.strip(), result.stderr[-3000:]
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    return {
        "failed": [check for r in reports for check in r.get("results", {}).get("failed_checks", [])],
        "skipped": [check for r in reports for check in r.get("results", {}).get("skipped_checks", [])],
        "passed": sum(r.get("summary", {}).get("passed", 0) for r in reports),
        "summary": [r.get("summary") for r in reports],
    }


def test_checkov_policy_scan_passes_every_rendered_overlay(tools, rendered):
    """Every finding is fixed or accepted in place with its reason (checkov.io/skipN annotations)."""
    scan_dir = rendered["dev"].parent
    report = _checkov(tools, "-d", scan_dir, "--framework", "kubernetes")
    failed = [f"{c['check_id']} {c['resource']} ({c['file_path']})" for c in report["failed"]]
    assert not failed, "\n".join(failed)
    assert report["passed"] > 1000
    assert len(report["skipped"]) == sum(summary["skipped"] for summary in report["summary"]) > 0
    for check in report["skipped"]:
        reason = check.get("check_result", {}).get("suppress_comment", "")
        assert len(reason) > 40, f"{check['check_id']} on {check['resource']} is skipped without a real reason"
    assert {c["check_id"] for c in report["skipped"]} <= {"CKV_K8S_43", "CKV_K8S_35", "CKV_K8S_40"}


def test_checkov_finds_a_privileged_pod(tools, tmp_path):
    (tmp_path / "bad.yaml").write_text(BAD_POD)
    report = _checkov(tools, "-d", tmp_path, "--framework", "kubernetes")
    assert "CKV_K8S_16" in {check["check_id"] for check in report["failed"]}  # privileged container


def test_checkov_passes_the_dockerfile(tools):
    report = _checkov(tools, "-f", REPO / "Dockerfile", "--framework", "dockerfile")
    assert not report["failed"], [c["check_id"] for c in report["failed"]]
    assert [c["check_id"] for c in report["skipped"]] == ["CKV_DOCKER_2"]


def test_hadolint_passes_the_dockerfile(tools):
    result = tools.run(tools.bin / "hadolint", "--failure-threshold", "info", REPO / "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_rejects_a_careless_dockerfile(tools, tmp_path):
    careless = tmp_path / "Dockerfile"
    careless.write_text("FROM python:latest\nRUN pip install flask\nCMD python app.py\n")
    result = tools.run(tools.bin / "hadolint", careless)
    assert result.returncode != 0 and "DL3007" in result.stdout
