"""What the rendered manifests must say: one Deployment per service, probes, hardening, least paths."""

import re

import pytest
import yaml

from casewire.config import load_config
from casewire.monitor import Monitor
from tests.deploy.conftest import OVERLAYS, REPO, SERVICES, TARGETS, of_kind, pod_labels, pod_spec

WORKLOADS = ("Deployment", "StatefulSet", "CronJob")
BACKEND_URIS = {"MONGODB_URI": "mongodb", "ELASTICSEARCH_URL": "elasticsearch", "AMQP_URI": "rabbitmq"}


def workloads(resources):
    return [doc for doc in resources if doc["kind"] in WORKLOADS]


def containers(resource):
    spec = pod_spec(resource)
    return spec.get("initContainers", []) + spec["containers"]


@pytest.mark.parametrize("target", list(TARGETS))
def test_every_target_renders_named_resources(docs, target):
    assert docs[target], f"{target} rendered nothing"
    for doc in docs[target]:
        assert doc.get("apiVersion") and doc.get("kind") and doc["metadata"].get("name"), doc


def test_every_service_folder_has_a_deployment_in_base_running_it(docs):
    deployments = of_kind(docs["base"], "Deployment")
    assert SERVICES == ["audit", "cases", "entities", "intake", "search"]
    assert set(deployments) == {*SERVICES, "gateway"}
    for name in SERVICES:
        container = pod_spec(deployments[name])["containers"][0]
        assert container["args"] == [
            "nameko",
            "run",
            "--config",
            f"services/{name}/config.yaml",
            f"services.{name}.service",
        ]
        assert (REPO / "k8s" / "base" / f"{name}.yaml").exists(), "one file per service"
    assert "args" not in pod_spec(deployments["gateway"])["containers"][0], "the gateway runs the image's CMD"


def test_the_operations_docs_name_every_service_and_its_manifest():
    text = (REPO / "docs" / "operations.md").read_text()
    for name in [*SERVICES, "gateway"]:
        assert f"k8s/base/{name}.yaml" in text, f"docs/operations.md does not mention k8s/base/{name}.yaml"
    assert "docs/operations.md" in (REPO / "README.md").read_text()


@pytest.mark.parametrize("target", list(TARGETS))
def test_every_container_is_hardened_and_bounded(docs, target):
    for resource in workloads(docs[target]):
        name = f"{target}/{resource['kind']}/{resource['metadata']['name']}"
        spec = pod_spec(resource)
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["serviceAccountName"] == resource["metadata"]["name"], name
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for container in containers(resource):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["capabilities"] == {"drop": ["ALL"]}, name
            assert context["runAsNonRoot"] is True, name
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), name
            image = container["image"]
            assert re.search(r"(:[\w.-]+|@sha256:[0-9a-f]{64})$", image) and not image.endswith(":latest"), image
        if resource["kind"] != "CronJob":
            for container in spec["containers"]:
                assert container.get("readinessProbe") and container.get("livenessProbe"), name
        mounts = {m["mountPath"] for c in spec["containers"] for m in c.get("volumeMounts", [])}
        assert "/tmp" in mounts, f"{name}: a writable /tmp (emptyDir) under a read-only root"


@pytest.mark.parametrize("target", list(TARGETS))
def test_casewire_image_is_pinned_to_a_version(docs, target):
    for resource in workloads(docs[target]):
        for container in containers(resource):
            if "casewire" in container["image"].rsplit("/", 1)[-1].split(":")[0]:
                assert re.search(r":\d+\.\d+\.\d+$|@sha256:", container["image"]), container["image"]


def test_service_probes_read_their_own_pods_heartbeat(docs):
    """Not an RPC on the shared queue (any replica would answer): ``casewire probe`` reads this pod's
    heartbeat, written by the Monitor every service class carries (tests/integration/test_probe.py)."""
    from services.audit.service import AuditService
    from services.cases.service import CasesService
    from services.entities.service import EntitiesService
    from services.intake.service import IntakeService
    from services.search.service import SearchService

    for service_class in (AuditService, CasesService, EntitiesService, IntakeService, SearchService):
        assert isinstance(service_class.__dict__.get("monitor"), Monitor), service_class.__name__
    deployments = of_kind(docs["base"], "Deployment")
    for name in SERVICES:
        container = pod_spec(deployments[name])["containers"][0]
        ready = container["readinessProbe"]["exec"]["command"]
        live = container["livenessProbe"]["exec"]["command"]
        assert ready == ["python", "-m", "casewire", "probe", name]
        assert live == ["python", "-m", "casewire", "probe", name, "--live"]
        assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"], "the heartbeat's own /tmp"
    gateway = pod_spec(deployments["gateway"])["containers"][0]
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert gateway["livenessProbe"]["httpGet"]["path"] == "/healthz"


@pytest.mark.parametrize("target", list(TARGETS))
def test_each_process_gets_only_the_backends_its_config_reads(docs, target):
    """The URIs a pod receives, its NetworkPolicy client labels and its config file agree."""
    for name, deployment in of_kind(docs[target], "Deployment").items():
        if deployment["metadata"]["labels"].get("app.kubernetes.io/part-of") != "casewire":
            continue
        config_file = REPO / ("gateway" if name == "gateway" else f"services/{name}") / "config.yaml"
        wanted = {key for key in BACKEND_URIS if "${" + key in config_file.read_text()}
        env = pod_spec(deployment)["containers"][0].get("env", [])
        secret_uris = {
            e["name"] for e in env if e.get("valueFrom", {}).get("secretKeyRef") and e["name"] in BACKEND_URIS
        }
        assert secret_uris == wanted, name
        clients = {key for key, value in pod_labels(deployment).items() if value == "client"}
        assert clients == {f"casewire.io/{BACKEND_URIS[key]}" for key in wanted}, name


@pytest.mark.parametrize("target", list(TARGETS))
def test_network_policies_deny_by_default_and_allow_only_named_paths(docs, target):
    policies = of_kind(docs[target], "NetworkPolicy")
    deny = policies["casewire-default-deny"]["spec"]
    assert deny["podSelector"] == {"matchLabels": {"app.kubernetes.io/part-of": "casewire"}}
    assert set(deny["policyTypes"]) == {"Ingress", "Egress"} and "ingress" not in deny and "egress" not in deny
    for backend, port in (("rabbitmq", None), ("mongodb", 27017), ("elasticsearch", 9200)):
        policy = policies[f"casewire-to-{backend}"]["spec"]
        assert policy["podSelector"] == {"matchLabels": {f"casewire.io/{backend}": "client"}}
        assert policy["policyTypes"] == ["Egress"] and len(policy["egress"]) == 1
        if port:
            assert [p["port"] for p in policy["egress"][0]["ports"]] == [port]
    ingress = policies["gateway-from-ingress"]["spec"]
    assert ingress["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "gateway"}}
    assert [p["port"] for p in ingress["ingress"][0]["ports"]] == [8080]
    for policy in policies.values():
        for rule in policy["spec"].get("egress", []) + policy["spec"].get("ingress", []):
            assert rule.get("ports"), f"{policy['metadata']['name']}: every allowed path names its ports"
            for peer in rule.get("to", []) + rule.get("from", []):
                assert peer.get("ipBlock", {}).get("cidr") != "0.0.0.0/0", policy["metadata"]["name"]


@pytest.mark.parametrize("target", list(TARGETS))
def test_scaling_objects_point_at_existing_workloads(docs, target):
    deployments = of_kind(docs[target], "Deployment")
    hpas = of_kind(docs[target], "HorizontalPodAutoscaler")
    assert set(hpas) == {"gateway", "intake", "entities", "search", "cases"}, "audit has a fixed replica count"
    for name, hpa in hpas.items():
        assert hpa["spec"]["scaleTargetRef"]["name"] in deployments
        assert hpa["spec"]["minReplicas"] >= 2
        assert "replicas" not in deployments[name]["spec"], f"{name}: the autoscaler owns the replica count"
    for name, pdb in of_kind(docs[target], "PodDisruptionBudget").items():
        assert pdb["spec"]["selector"]["matchLabels"] == deployments[name]["spec"]["selector"]["matchLabels"]
    assert set(of_kind(docs[target], "PodDisruptionBudget")) == set(deployments) & {*SERVICES, "gateway"}


@pytest.mark.parametrize("target", list(TARGETS))
def test_secrets_are_referenced_never_committed(docs, target):
    assert not of_kind(docs[target], "Secret")
    for path in (REPO / "k8s").rglob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            assert not (isinstance(doc, dict) and doc.get("kind") == "Secret"), path


def test_the_settings_configmap_covers_the_readme_configuration_table(docs):
    readme = (REPO / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    first_cells = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", " ".join(first_cells))) - {"GATEWAY_PORT"}  # scripts only
    assert {"AMQP_URI", "INDEX_PREFIX", "AUDIT_DATABASE"} <= documented
    settings = set(of_kind(docs["base"], "ConfigMap")["casewire-settings"]["data"])
    assert documented - set(BACKEND_URIS) <= settings
    gateway_config = load_config(REPO / "gateway" / "config.yaml", environ={"CASEWIRE_OIDC_ISSUER": "x"})
    assert gateway_config["OIDC_ISSUER"] == "x", "the ConfigMap's OIDC names are the ones the gateway reads"


def test_production_uses_operator_managed_tls_backends(docs):
    production = docs["production"]
    rabbitmq = of_kind(production, "RabbitmqCluster")["casewire-rabbitmq"]
    assert rabbitmq["spec"]["tls"]["disableNonTLSListeners"] is True
    elasticsearch = of_kind(production, "Elasticsearch")["casewire"]
    assert elasticsearch["spec"]["version"].startswith("8.19.")
    assert "selfSignedCertificate" not in elasticsearch["spec"]["http"]["tls"] or not elasticsearch["spec"]["http"][
        "tls"
    ]["selfSignedCertificate"].get("disabled")
    assert of_kind(production, "ConfigMap")["casewire-settings"]["data"]["CASEWIRE_OIDC_ISSUER"].startswith("https://")
    to_rabbitmq = of_kind(production, "NetworkPolicy")["casewire-to-rabbitmq"]["spec"]["egress"][0]
    assert [p["port"] for p in to_rabbitmq["ports"]] == [5671], "amqps only"
    for deployment in of_kind(production, "Deployment").values():
        env = {e["name"]: e.get("value") for e in pod_spec(deployment)["containers"][0]["env"]}
        assert env["SSL_CERT_FILE"] == "/etc/casewire/tls/ca.crt"
    assert not of_kind(production, "StatefulSet"), "production runs no hand-made backends"


def test_dev_runs_single_replica_backends_from_pinned_official_images(docs):
    statefulsets = of_kind(docs["dev"], "StatefulSet")
    assert set(statefulsets) == {"rabbitmq", "mongodb", "elasticsearch"}
    for name, statefulset in statefulsets.items():
        assert statefulset["spec"]["replicas"] == 1
        assert pod_labels(statefulset)["casewire.io/backend"] == name
    images = {name: pod_spec(s)["containers"][0]["image"] for name, s in statefulsets.items()}
    assert images["elasticsearch"].endswith(":8.19.21")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlays_put_casewire_in_its_own_restricted_namespace(docs, overlay):
    namespaces = of_kind(docs[overlay], "Namespace")
    assert namespaces["casewire"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for doc in docs[overlay]:
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace", "").startswith("casewire"), doc["metadata"]["name"]


@pytest.mark.parametrize("target", list(TARGETS))
def test_the_ingress_serves_only_the_api_and_the_console_over_tls(docs, target):
    ingress = of_kind(docs[target], "Ingress")["gateway"]["spec"]
    hosts = [rule["host"] for rule in ingress["rules"]]
    assert [path["path"] for rule in ingress["rules"] for path in rule["http"]["paths"]] == ["/api", "/console"]
    assert ingress["tls"][0]["hosts"] == hosts and ingress["tls"][0]["secretName"]
    template = of_kind(docs[target], "Deployment")["gateway"]["spec"]["template"]["metadata"]
    assert template["annotations"]["prometheus.io/path"] == "/metrics"


def test_the_probe_command_knows_every_service():
    from casewire import probe
    from casewire_cli.main import probe as probe_command

    assert sorted(probe.SERVICES) == SERVICES
    assert sorted(probe_command.params[0].type.choices) == SERVICES


@pytest.mark.parametrize("target", list(TARGETS))
def test_C22_only_the_audit_deployment_holds_the_checkpoint_key(docs, target):
    """The audit service signs its own checkpoints (a timer); no job, no other process gets the key."""
    holders = {
        f"{resource['kind']}/{resource['metadata']['name']}"
        for resource in workloads(docs[target])
        for container in containers(resource)
        for entry in container.get("env", []) + container.get("envFrom", [])
        if entry.get("name") == "AUDIT_CHECKPOINT_KEY"
        or "casewire-audit-checkpoint" in yaml.safe_dump(entry.get("valueFrom") or entry.get("secretRef") or {})
    }
    assert holders == {"Deployment/audit"}
    assert not of_kind(docs[target], "CronJob"), "checkpoints are the audit service's timer, not a job"
    key = next(
        e
        for e in pod_spec(of_kind(docs[target], "Deployment")["audit"])["containers"][0]["env"]
        if e["name"] == "AUDIT_CHECKPOINT_KEY"
    )
    assert key["valueFrom"]["secretKeyRef"] == {"name": "casewire-audit-checkpoint", "key": "AUDIT_CHECKPOINT_KEY"}
    for name, settings in of_kind(docs[target], "ConfigMap").items():
        assert "AUDIT_CHECKPOINT_KEY" not in settings.get("data", {}), name


def test_production_trusts_elasticsearch_through_its_setting_not_by_replacing_certifi(docs):
    production = docs["production"]
    assert of_kind(production, "ConfigMap")["casewire-settings"]["data"]["ELASTICSEARCH_CA_CERTS"] == (
        "/etc/casewire/tls/ca.crt"
    )
    for name, deployment in of_kind(production, "Deployment").items():
        mounts = [m["mountPath"] for c in containers(deployment) for m in c.get("volumeMounts", [])]
        assert "/etc/casewire/tls" in mounts, name
        assert not [m for m in mounts if "certifi" in m], f"{name} mounts over certifi's bundle"
    for config in ("services/search/config.yaml", "gateway/config.yaml"):
        loaded = load_config(REPO / config, environ={"ELASTICSEARCH_CA_CERTS": "/etc/casewire/tls/ca.crt"})
        assert loaded["ELASTICSEARCH_CA_CERTS"] == "/etc/casewire/tls/ca.crt", config


@pytest.mark.parametrize("target", list(TARGETS))
def test_every_service_exports_metrics_to_prometheus_and_only_to_it(docs, target):
    settings = of_kind(docs[target], "ConfigMap")["casewire-settings"]["data"]
    port = int(settings["METRICS_PORT"])
    deployments = of_kind(docs[target], "Deployment")
    for name in SERVICES:
        template = deployments[name]["spec"]["template"]
        assert template["metadata"]["annotations"]["prometheus.io/port"] == str(port), name
        assert template["metadata"]["labels"]["app.kubernetes.io/component"] == "service", name
        ports = template["spec"]["containers"][0]["ports"]
        assert {"name": "metrics", "containerPort": port, "protocol": "TCP"} in ports, name
    policy = of_kind(docs[target], "NetworkPolicy")["services-from-monitoring"]["spec"]
    assert policy["podSelector"] == {"matchLabels": {"app.kubernetes.io/component": "service"}}
    assert [p["port"] for p in policy["ingress"][0]["ports"]] == [port]
    assert policy["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"]


@pytest.mark.parametrize("target", list(TARGETS))
def test_C24_the_audit_archive_is_a_shared_writable_volume_at_AUDIT_ARCHIVE_DIR(docs, target):
    """The root filesystem is read-only: archives need a volume, shared by every audit replica."""
    archive_dir = of_kind(docs[target], "ConfigMap")["casewire-settings"]["data"]["AUDIT_ARCHIVE_DIR"]
    spec = pod_spec(of_kind(docs[target], "Deployment")["audit"])
    mounts = {m["mountPath"]: m for m in spec["containers"][0]["volumeMounts"]}
    assert archive_dir in mounts and not mounts[archive_dir].get("readOnly"), mounts
    volume = {v["name"]: v for v in spec["volumes"]}[mounts[archive_dir]["name"]]
    claim = of_kind(docs[target], "PersistentVolumeClaim")[volume["persistentVolumeClaim"]["claimName"]]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"], "every audit replica writes archives"
    assert spec["securityContext"]["fsGroup"] == 10001, "fsGroup makes the volume writable for uid 10001"
    compose = yaml.safe_load((REPO / "compose.yaml").read_text())["services"]["audit"]
    assert any(volume.endswith(f":{archive_dir}") for volume in compose["volumes"])


@pytest.mark.parametrize("target", list(TARGETS))
def test_webhook_deliveries_have_their_own_narrow_egress_path_from_cases_only(docs, target):
    """Default-deny would drop every webhook POST; one named policy opens HTTPS to set ranges, for cases only."""
    policy = of_kind(docs[target], "NetworkPolicy")["casewire-webhooks"]["spec"]
    selector = policy["podSelector"]["matchLabels"]
    senders = [
        name for name, d in of_kind(docs[target], "Deployment").items() if selector.items() <= pod_labels(d).items()
    ]
    assert senders == ["cases"]
    assert policy["policyTypes"] == ["Egress"]
    assert [p["port"] for p in policy["egress"][0]["ports"]] == [443]
    assert all("ipBlock" in peer for peer in policy["egress"][0]["to"])


def test_the_gateways_database_is_configured_and_backed_up():
    """The gateway writes the stream buffer to GATEWAY_DATABASE: it is data, not a /readyz check."""
    settings = yaml.safe_load((REPO / "k8s" / "base" / "settings.yaml").read_text())["data"]
    assert settings["GATEWAY_DATABASE"] == load_config(REPO / "gateway" / "config.yaml")["GATEWAY_DATABASE"]
    backups = (REPO / "docs" / "operations.md").read_text().split("## Backups", 1)[1].split("\n## ", 1)[0]
    for database in ("INTAKE", "ENTITIES", "CASES", "AUDIT", "GATEWAY"):
        assert f"`{settings[database + '_DATABASE']}`" in backups, database
