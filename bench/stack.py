"""The benchmark's own Casewire: the five services and the gateway on a private vhost and databases."""

import os
import subprocess
from pathlib import Path

from elasticsearch import Elasticsearch
from pymongo import MongoClient

REPO = Path(__file__).resolve().parent.parent
SERVICES = ("intake", "entities", "search", "cases", "audit")


class Stack:
    def __init__(self, port: int = 18200, vhost: str = "casewire-bench", prefix: str = "bench"):
        self.port, self.vhost, self.prefix = port, vhost, prefix
        self.url = f"http://127.0.0.1:{port}"
        self.amqp_uri = f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
        self.run_dir = REPO / ".state" / f"bench-run-{port}"
        self.databases = {service: f"{prefix}_{service}" for service in SERVICES if service != "search"}
        self.index_prefix = f"{prefix}-casewire"

    def env(self) -> dict:
        env = dict(
            os.environ,
            AMQP_URI=self.amqp_uri,
            INDEX_PREFIX=self.index_prefix,
            GATEWAY_PORT=str(self.port),
            CASEWIRE_RUN=str(self.run_dir),
        )
        for service, database in self.databases.items():
            env[f"{service.upper()}_DATABASE"] = database
        env["GATEWAY_DATABASE"] = f"{self.prefix}_gateway"
        env["RATE_LIMIT_PER_MINUTE"] = "0"  # one benchmark user sends far more than a person would
        return env

    def reset(self, mongo_uri: str, es_url: str) -> None:
        """Empty stores: the stack's databases and indices dropped, its vhost made afresh. Services an
        interrupted run left running are stopped first: they made their indexes at their start, and
        would write on into collections made again without them."""
        self.stop()
        client, es = MongoClient(mongo_uri), Elasticsearch(es_url, request_timeout=120)
        for database in self.databases.values():
            client.drop_database(database)
        client.drop_database(f"{self.prefix}_gateway")
        held = list(es.indices.get(index=f"{self.index_prefix}-*"))
        if held:
            es.indices.delete(index=",".join(held))
        client.close()
        es.close()
        subprocess.run([REPO / "scripts" / "rabbitmq.sh", "fresh_vhost", self.vhost], check=True)

    def start(self) -> None:
        subprocess.run([REPO / "scripts" / "services.sh", "start"], env=self.env(), check=True)

    def stop(self) -> None:
        subprocess.run([REPO / "scripts" / "services.sh", "stop"], env=self.env(), check=False)

    def rss_mb(self) -> dict[str, float]:
        """Resident memory of each process (with its children: gunicorn's workers) now, from /proc."""
        return {
            name: round(sum(_rss_kb(pid) for pid in _tree(int((self.run_dir / f"{name}.pid").read_text()))) / 1024, 1)
            for name in (*SERVICES, "gateway")
        }


def _tree(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    kids = [int(child) for child in children.read_text().split()] if children.exists() else []
    return [pid] + [descendant for kid in kids for descendant in _tree(kid)]


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0
