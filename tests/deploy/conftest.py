"""Deployment checks: the image recipe, the Kubernetes manifests and the compose file.

The tools come from ``scripts/deploy-tools.sh`` (idempotent, pinned): kustomize built from its Go
module, and checkov, kubernetes-validate and hadolint in their own virtualenv (``.state/tools-venv``),
because checkov's dependency tree clashes with the project's pins. No server is needed; nothing is
skipped: a tool that cannot be installed fails the run.
"""

import os
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "k8s"
OVERLAYS = ("dev", "production")
TARGETS = {"base": K8S / "base", "dev": K8S / "overlays" / "dev", "production": K8S / "overlays" / "production"}
SERVICES = sorted(path.parent.name for path in (REPO / "services").glob("*/service.py"))


class Tools:
    def __init__(self, state: Path):
        self.kustomize = state / "tools" / "bin" / "kustomize"
        self.bin = state / "tools-venv" / "bin"

    def run(self, *args, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run([str(arg) for arg in args], capture_output=True, text=True, timeout=600, **kwargs)


@pytest.fixture(scope="session")
def tools() -> Tools:
    installed = subprocess.run(
        [str(REPO / "scripts" / "deploy-tools.sh")], capture_output=True, text=True, timeout=1200, env=os.environ
    )
    if installed.returncode != 0:
        pytest.fail(f"scripts/deploy-tools.sh failed:\n{installed.stderr[-3000:]}", pytrace=False)
    return Tools(Path(installed.stdout.strip().splitlines()[-1]))


@pytest.fixture(scope="session")
def rendered(tools, tmp_path_factory) -> dict[str, Path]:
    """``kustomize build`` of the base and of every overlay, each written to its own file."""
    out = tmp_path_factory.mktemp("rendered")
    files = {}
    for name, path in TARGETS.items():
        built = tools.run(tools.kustomize, "build", path)
        assert built.returncode == 0, f"kustomize build {path.relative_to(REPO)} failed:\n{built.stderr}"
        files[name] = out / f"{name}.yaml"
        files[name].write_text(built.stdout)
    return files


@pytest.fixture(scope="session")
def docs(rendered) -> dict[str, list[dict]]:
    """The rendered resources of each target, parsed."""
    return {name: [doc for doc in yaml.safe_load_all(path.read_text()) if doc] for name, path in rendered.items()}


def of_kind(resources: list[dict], kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in resources if doc["kind"] == kind}


def pod_spec(resource: dict) -> dict:
    if resource["kind"] == "CronJob":
        return resource["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return resource["spec"]["template"]["spec"]


def pod_labels(resource: dict) -> dict:
    if resource["kind"] == "CronJob":
        return resource["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    return resource["spec"]["template"]["metadata"]["labels"]
