"""The TypeScript client's document (clients/typescript/openapi.json) is the gateway's own, as served."""

import json
from pathlib import Path

from gateway.openapi import document

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "typescript"


def test_the_committed_client_document_is_the_gateways():
    committed = json.loads((CLIENT / "openapi.json").read_text())
    assert document() == committed, "the gateway's document changed: run scripts/client.sh generate"
