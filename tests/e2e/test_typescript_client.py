"""The TypeScript client (clients/typescript) against the real gateway: generated from the document the
gateway serves, type-checked by tsc, and running the seed's story (issue 19).

The story program posts a plate read near a homicide in January, promotes it into the homicide case
and names the vehicle in the case, then posts the same plate near a burglary in March: the March
alert's answer must name the January alert and its case.
"""

import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO

CLIENT = REPO / "clients" / "typescript"
GENERATE = ("npx", "openapi-typescript", "openapi.json", "--default-non-nullable", "false")  # package.json's


def run(*args: str, env: dict | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess:
    done = subprocess.run(args, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def built():
    """npm ci (when the lock changed) and tsc: the committed client type-checks and compiles."""
    run(str(REPO / "scripts" / "client.sh"), "build")


def test_the_committed_client_is_generated_from_the_document_the_gateway_serves(gateway, built, tmp_path):
    served = gateway.get("/api/v1/openapi.json", roles=()).json()
    committed = json.loads((CLIENT / "openapi.json").read_text())
    assert served == committed, "the gateway's document changed: run scripts/client.sh generate"
    regenerated = tmp_path / "schema.d.ts"
    run(
        "npx",
        "openapi-typescript",
        "openapi.json",
        "--default-non-nullable",
        "false",
        "-o",
        str(regenerated),
        cwd=CLIENT,
    )
    assert regenerated.read_text() == (CLIENT / "src" / "schema.d.ts").read_text(), "run scripts/client.sh generate"


def test_the_seeds_story_runs_through_the_typed_client(gateway, built):
    plate = f"K{uuid.uuid4().hex[:6].upper()}"
    token = gateway.token("detective", sub="dana", unit="homicide")
    told = run("node", "dist/story.js", plate, env={"CASEWIRE_URL": gateway.url, "CASEWIRE_TOKEN": token}, cwd=CLIENT)
    story = json.loads(told.stdout.strip().splitlines()[-1])
    assert story["plate"] == plate
    assert {"record_type": "alert", "id": story["january"]} in story["named"]
    assert {"record_type": "case", "id": story["case"]} in story["named"]
    march = gateway.get(f"/api/v1/alerts/{story['march']}", token=token).json()
    assert [case["id"] for case in march["related_cases"]] == [story["case"]]
    january = gateway.get(f"/api/v1/alerts/{story['january']}", token=token).json()
    assert january["status"] == "promoted" and january["cases"] == [story["case"]]
