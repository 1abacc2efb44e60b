"""The audit log through the gateway and the ``casewire audit`` commands (C12, C20, C22).

Every read of the log (list, verify, export, whether over HTTP or from the CLI) is itself an
audit event naming the reader.
"""

import csv
import io
import json
import uuid

from click.testing import CliRunner

from casewire_cli.main import main
from gateway.auth import mint_dev_token
from tests.polling import eventually


def auditor(gateway, sub: str) -> dict:
    return {"token": gateway.token("auditor", sub=sub)}


def audited_reads(gateway, reader: str, action: str) -> list[dict]:
    response = gateway.get("/api/v1/audit/events", roles=("auditor",), params={"actor": reader, "action": action})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_C20_verify_is_ok_and_is_itself_audited(gateway):
    reader = f"audra-{uuid.uuid4().hex[:6]}"
    response = gateway.get("/api/v1/audit/verify", **auditor(gateway, reader))
    assert response.status_code == 200, response.text
    assert response.json()["ok"] is True
    [read] = eventually(lambda: audited_reads(gateway, reader, "audit.verify"))
    assert read["outcome"] == "allowed" and read["actor"]["roles"] == ["auditor"] and read["at"].endswith("Z")
    again = gateway.get("/api/v1/audit/verify", roles=("auditor",)).json()
    assert again["ok"] is True and again["checked"] >= read["seq"]


def test_C12_only_auditors_read_verify_or_export_the_log(gateway):
    for role in ("admin", "analyst", "supervisor"):
        for path in ("/api/v1/audit/events", "/api/v1/audit/verify", "/api/v1/audit/export"):
            assert gateway.get(path, roles=(role,)).status_code == 403, (role, path)
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        response = gateway.request(method, "/api/v1/audit/events", roles=("auditor",))
        assert response.status_code == 405, method


def test_C20_events_page_with_an_opaque_cursor(gateway):
    reader = f"pager-{uuid.uuid4().hex[:6]}"
    for _ in range(3):
        gateway.get("/api/v1/audit/verify", **auditor(gateway, reader))
    eventually(lambda: len(audited_reads(gateway, reader, "audit.verify")) == 3)
    params = {"actor": reader, "action": "audit.verify", "limit": 2}
    first = gateway.get("/api/v1/audit/events", roles=("auditor",), params=params).json()
    second = gateway.get(
        "/api/v1/audit/events", roles=("auditor",), params={**params, "cursor": first["next_cursor"]}
    ).json()
    seqs = [event["seq"] for event in first["items"] + second["items"]]
    assert len(seqs) == 3 and seqs == sorted(seqs) and second["next_cursor"] is None
    bad = gateway.get("/api/v1/audit/events", roles=("auditor",), params={"cursor": "nope"})
    assert bad.status_code == 422 and "cursor" in bad.json()["errors"]


def test_C20_export_streams_jsonl_and_csv_and_is_audited(gateway):
    reader = f"exporter-{uuid.uuid4().hex[:6]}"
    token = auditor(gateway, reader)
    gateway.get("/api/v1/audit/verify", **token)
    eventually(lambda: audited_reads(gateway, reader, "audit.verify"))

    jsonl = gateway.get("/api/v1/audit/export", params={"format": "jsonl", "actor": reader}, **token)
    assert jsonl.status_code == 200 and jsonl.headers["Content-Type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in jsonl.text.splitlines()]
    assert int(jsonl.headers["X-Total-Count"]) == len(lines) >= 1
    assert {line["actor"]["id"] for line in lines} == {reader}

    exported = gateway.get("/api/v1/audit/export", params={"format": "csv", "actor": reader}, **token)
    assert exported.status_code == 200 and exported.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert int(exported.headers["X-Total-Count"]) == len(rows) and rows[0]["actor_id"] == reader
    eventually(lambda: len(audited_reads(gateway, reader, "audit.export")) == 2)


def test_C22_an_unfiltered_export_re_hashes_offline(gateway, tmp_path):
    """The whole chain: an auditor whose oversight claim covers every agency (docs/security.md); an
    agency's auditor exports its agency's events, a chain with gaps, and checks the whole with verify."""
    everyone = mint_dev_token(gateway.secret, "olive", ["auditor"], agency="TX0000000", oversight=["*"])
    response = gateway.get("/api/v1/audit/export", token=everyone)
    path = tmp_path / "all.jsonl"
    path.write_bytes(response.content)
    result = CliRunner().invoke(main, ["audit", "check-file", str(path)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["checked"] == int(response.headers["X-Total-Count"])


def test_C20_the_cli_verifies_and_exports_through_the_gateway_and_is_audited(gateway, tmp_path):
    reader = f"cli-{uuid.uuid4().hex[:6]}"
    env = {"CASEWIRE_GATEWAY": gateway.url, "CASEWIRE_TOKEN": gateway.token("auditor", sub=reader)}
    runner = CliRunner()

    verified = runner.invoke(main, ["audit", "verify"], env=env)
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.output)["ok"] is True
    eventually(lambda: audited_reads(gateway, reader, "audit.verify"))

    out = tmp_path / "mine.csv"
    command = ["audit", "export", "--format", "csv", "--actor", reader, "--out", str(out)]
    exported = runner.invoke(main, command, env=env)
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(out.open(newline="")))
    assert rows and {row["actor_id"] for row in rows} == {reader}
    [export] = eventually(lambda: audited_reads(gateway, reader, "audit.export"))
    assert export["details"]["query"] == {"format": "csv", "actor": reader}

    refused = runner.invoke(main, ["audit", "verify"], env={**env, "CASEWIRE_TOKEN": gateway.token("admin")})
    assert refused.exit_code != 0 and "403" in refused.output
