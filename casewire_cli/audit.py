"""``casewire audit verify|export|check-file|keygen``: the auditor's commands, and the operator's key.

``verify`` and ``export`` go through the gateway with the auditor's own token, so the gateway
checks the role and audits the read like any other (C20); nothing here talks to the audit
service or its database directly. ``check-file`` re-hashes an export or an archive segment
offline, with no server at all, and with ``--checkpoints`` and ``--public-key`` checks it against the
signed checkpoints using the public key alone. ``keygen`` makes the audit service's Ed25519 key pair.
"""

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    import requests

FILTERS = ("actor", "agency", "record_id", "record_type", "action", "outcome", "service", "since", "until")


def _session(obj: dict) -> "requests.Session":
    import requests

    token = obj["token"]
    if not token:
        raise click.UsageError("an auditor's token is needed: --token or $CASEWIRE_TOKEN")

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def _fail(response: "requests.Response") -> None:
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = response.text[:200]
    raise click.ClickException(f"the gateway answered {response.status_code}: {detail}")


@click.group("audit")
@click.option("--gateway", envvar="CASEWIRE_GATEWAY", default="http://127.0.0.1:8080", show_default=True)
@click.option("--token", envvar="CASEWIRE_TOKEN", help="An auditor's bearer token ($CASEWIRE_TOKEN).")
@click.pass_context
def audit(ctx: click.Context, gateway: str, token: str) -> None:
    """Verify and export the audit log (auditors)."""
    ctx.obj = {"gateway": gateway.rstrip("/"), "token": token}


@audit.command()
@click.pass_obj
def verify(obj: dict) -> None:
    """Recompute the chain and check the signed checkpoints; exit 1 when it does not verify."""
    response = _session(obj).get(f"{obj['gateway']}/api/v1/audit/verify", timeout=3600)
    if response.status_code != 200:
        _fail(response)
    result = response.json()
    click.echo(json.dumps(result, indent=2, sort_keys=True))
    if not result.get("ok"):
        raise SystemExit(1)


@audit.command()
@click.option("--format", "format_", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The file to write.")
@click.option("--actor")
@click.option("--agency")
@click.option("--record-id", "record_id")
@click.option("--record-type", "record_type")
@click.option("--action")
@click.option("--outcome", type=click.Choice(["allowed", "denied", "failed"]))
@click.option("--service")
@click.option("--since", help="ISO time with offset, e.g. 2026-01-01T00:00:00Z")
@click.option("--until", help="ISO time with offset (exclusive)")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_obj
def export(obj: dict, format_: str, out: Path, quiet: bool, **filters) -> None:
    """Export the (filtered) log to a file, with a progress bar; the file appears only when complete."""
    import requests
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    params = {"format": format_, **{key: value for key, value in filters.items() if value}}
    url = f"{obj['gateway']}/api/v1/audit/export"
    partial = out.with_name(out.name + ".part")
    columns = ("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    try:
        with _session(obj).get(url, params=params, stream=True, timeout=(10, 600)) as response:
            if response.status_code != 200:
                _fail(response)
            total = int(response.headers.get("X-Total-Count", 0))
            with Progress(*columns, disable=quiet) as progress, open(partial, "wb") as target:
                task = progress.add_task(f"audit events -> {out.name}", total=total)
                for chunk in response.iter_content(chunk_size=64 * 1024):
                    target.write(chunk)
                    progress.advance(task, chunk.count(b"\n"))
    except requests.RequestException as exc:
        partial.unlink(missing_ok=True)
        raise click.ClickException(f"the export was interrupted ({exc}); nothing was written") from exc
    events = _jsonl_lines(partial) if format_ == "jsonl" else _csv_rows(partial)
    if events != total:
        partial.unlink(missing_ok=True)
        raise click.ClickException(f"the export stopped after {events} of {total} events; nothing was written")
    os.replace(partial, out)
    click.echo(f"{events} audit events written to {out}", err=True)


def _jsonl_lines(path: Path) -> int:
    with open(path, "rb") as exported:
        return sum(1 for line in exported if line.strip())


def _csv_rows(path: Path) -> int:
    """Events in a CSV export (a quoted cell may span lines), without the header."""
    import csv

    with open(path, newline="", encoding="utf-8") as exported:
        return max(0, sum(1 for _ in csv.reader(exported)) - 1)


@audit.command("check-file")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--checkpoints",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The audit service's checkpoint file (AUDIT_CHECKPOINT_FILE): check the events against it.",
)
@click.option(
    "--public-key",
    "public_key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The audit service's public key (PEM), which verifies the checkpoints' signatures.",
)
def check_file(path: Path, checkpoints: Path | None, public_key: Path | None) -> None:
    """Re-hash a JSON-lines export or archive segment offline; exit 1 when its chain breaks.

    With ``--checkpoints`` and ``--public-key``, also check every signed checkpoint (signature, numbering)
    and that the file's chain holds each one's hash; a checkpoint past the file's last event means events
    were removed (or the file is older than the checkpoint)."""
    from services.audit.chain import GENESIS, verify_events, walk
    from services.audit.checkpoints import CheckpointFile, Verifier

    if (checkpoints is None) != (public_key is None):
        raise click.UsageError("--checkpoints and --public-key go together")
    records = [json.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    segment = next((r["segment"] for r in records if "segment" in r), None)
    events = [r["event"] if "event" in r else r for r in records if "event" in r or "seq" in r]
    if not events:
        raise click.ClickException("no events in the file")
    start_seq = segment["seq_from"] - 1 if segment else events[0]["seq"] - 1
    start_hash = segment["prev_hash"] if segment else (events[0]["prev_hash"] if start_seq else GENESIS)
    if checkpoints is None:
        result = walk(events, start_seq, start_hash)
        keys = ("ok", "checked", "first_bad_seq", "head")
    else:
        try:
            verifier = Verifier.from_pem(public_key.read_bytes())
        except ValueError as exc:
            raise click.ClickException(f"{public_key} is not an Ed25519 public key (PEM)") from exc
        signed = CheckpointFile(checkpoints).read()
        result = verify_events(events, start_seq, start_hash, signed, verifier.authentic)
        keys = ("ok", "checked", "first_bad_seq", "head", "failed_checkpoint", "checkpoints")
    click.echo(json.dumps({key: result[key] for key in keys if key in result}))
    if not result["ok"]:
        raise SystemExit(1)


@audit.command()
@click.option("--private", "private_path", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--public", "public_path", type=click.Path(dir_okay=False, path_type=Path), required=True)
def keygen(private_path: Path, public_path: Path) -> None:
    """Make the audit service's Ed25519 key pair: the private key (PEM, mode 600) is the audit service's
    secret and nobody else's; the public key goes to auditors, who verify checkpoints with it alone."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    for target in (private_path, public_path):
        if target.exists():
            raise click.ClickException(f"{target} exists; a key is never overwritten")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as private_file:
        private_file.write(private_pem)
    public_path.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    click.echo(f"private key: {private_path} (the audit service's secret); public key: {public_path}", err=True)
