"""The ``casewire`` command: operator tools. Each command imports what it needs when it runs."""

import os
from pathlib import Path
from typing import TYPE_CHECKING, Never

import click

from casewire.config import load_config

if TYPE_CHECKING:
    import requests
    from nameko.standalone.rpc import ClusterRpcProxy

    from services.search.dependencies import SearchIndex


GATEWAY_CONFIG = Path(__file__).resolve().parent.parent / "gateway" / "config.yaml"


@click.group()
def main() -> None:
    """Casewire operator commands."""


@main.command()
@click.option("--sub", required=True, help="User or system id, e.g. alice or flock-webhook.")
@click.option(
    "--roles",
    required=True,
    help="Comma-separated: source, analyst, detective, supervisor, auditor, admin, purge_authority.",
)
@click.option("--agency", default=None, help="The agency's ORI, e.g. TX0000000.")
@click.option("--unit", default=None, help="The user's unit, e.g. rtcc or homicide.")
@click.option("--name", default=None, help="Display name.")
@click.option("--hours", default=12.0, show_default=True, help="Lifetime of the token.")
@click.option(
    "--oversight",
    default=None,
    help="Auditors: comma-separated ORIs audited beyond their own agency, or * for every agency (docs/security.md).",
)
def token(sub: str, roles: str, agency: str, unit: str, name: str | None, hours: float, oversight: str | None) -> None:
    """Mint a development token (HS256, signed with the gateway's DEV_JWT_SECRET)."""
    from gateway.auth import mint_dev_token
    from gateway.permissions import ROLES

    wanted = [role.strip() for role in roles.split(",") if role.strip()]
    unknown = sorted(set(wanted) - set(ROLES))
    if unknown:
        raise click.BadParameter(f"unknown roles {unknown}; choose from {list(ROLES)}", param_hint="--roles")
    config = load_config(os.environ.get("GATEWAY_CONFIG", GATEWAY_CONFIG))
    if config.get("OIDC_ISSUER"):
        raise click.UsageError("this gateway verifies OIDC tokens; ask the identity provider for one")
    overseen = [ori.strip() for ori in (oversight or "").split(",") if ori.strip()]
    click.echo(mint_dev_token(config["DEV_JWT_SECRET"], sub, wanted, agency, unit, name, hours, overseen))


@main.command()
def permissions() -> None:
    """Print the role × action table the gateway enforces (gateway/permissions.py)."""
    from gateway.permissions import PERMISSIONS, ROLES

    width = max(len(action) for action in PERMISSIONS)
    click.echo(f"{'action':<{width}}  " + "  ".join(ROLES))
    for action, roles in PERMISSIONS.items():
        marks = "  ".join(("x" if role in roles else "-").center(len(role)) for role in ROLES)
        click.echo(f"{action:<{width}}  {marks}".rstrip())


@main.command()
@click.option("--gateway", default="http://127.0.0.1:8080", show_default=True, help="The gateway's URL.")
def demo(gateway: str) -> None:
    """Load the demo data set (the seed's story) through the gateway; safe to run twice."""
    import requests

    from casewire_cli import demo as demo_data
    from gateway.auth import mint_dev_token

    config = load_config(os.environ.get("GATEWAY_CONFIG", GATEWAY_CONFIG))
    token = mint_dev_token(config["DEV_JWT_SECRET"], "demo-loader", ["source"], agency="TX0000000")
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    results = demo_data.load(lambda body: session.post(f"{gateway}/api/v1/alerts", json=body, timeout=60))
    created = sum(1 for status, _ in results if status == 201)
    click.echo(f"demo data: {created} alerts created, {len(results) - created} already there")


def _source_token(gateway_token: str | None) -> str:
    """The token to use: ``--token``/``CASEWIRE_TOKEN``, else a development token for a source system."""
    if gateway_token:
        return gateway_token
    from gateway.auth import mint_dev_token

    config = load_config(os.environ.get("GATEWAY_CONFIG", GATEWAY_CONFIG))
    if config.get("OIDC_ISSUER"):
        raise click.UsageError("this gateway verifies OIDC tokens; pass --token")
    return mint_dev_token(config["DEV_JWT_SECRET"], "casewire-import", ["source"])


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--gateway", default="http://127.0.0.1:8080", show_default=True, help="The gateway's URL.")
@click.option("--token", envvar="CASEWIRE_TOKEN", default=None, help="Bearer token (default: a dev source token).")
@click.option("--chunk", default=500, show_default=True, type=click.IntRange(1, 1000), help="Alerts per request.")
@click.option("--retries", default=5, show_default=True, type=click.IntRange(0, 20),
              help="How often a batch answered 503 or 429 is sent again (waiting as Retry-After asks).")  # fmt: skip
@click.option("--failures", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write failed records with their errors (default: FILE.failures.jsonl).")  # fmt: skip
def import_alerts(file: Path, gateway: str, token: str, chunk: int, retries: int, failures: Path | None) -> None:
    """Import alerts from FILE (JSON lines, or CSV with the columns docs/intake.md names) via the batch endpoint.

    A batch answered 503 or 429 is retried; one still refused is written to the failures file."""
    import json

    import requests
    from rich.progress import Progress

    from casewire_cli.importer import post_with_retries, read_records, run_import

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {_source_token(token)}"

    def send(alerts: list[dict]) -> "requests.Response":
        return session.post(f"{gateway}/api/v1/alerts/batch", json={"alerts": alerts}, timeout=300)

    def post_batch(alerts: list[dict]) -> list[dict]:
        return post_with_retries(send, alerts, retries)

    total = sum(1 for _ in read_records(file))
    with Progress() as progress:
        task = progress.add_task(f"importing {file.name}", total=total)
        report = run_import(read_records(file), post_batch, chunk, lambda n: progress.advance(task, n))
    counts = report["counts"]
    click.echo(
        f"{counts['created']} created, {counts['known']} already known, "
        f"{counts['near_duplicate']} folded as near-duplicates, {counts['failed']} failed"
    )
    if report["failures"]:
        failures = failures or file.with_name(f"{file.name}.failures.jsonl")
        with failures.open("w", encoding="utf-8") as handle:
            for failure in report["failures"]:
                handle.write(json.dumps(failure) + "\n")
        click.echo(f"failures and their errors: {failures}")
        raise SystemExit(1)


@main.group()
def dlq() -> None:
    """The dead-letter queue: events a consumer failed on after its retries."""


def _amqp_uri(amqp_uri: str | None) -> str:
    return amqp_uri or load_config(os.environ.get("GATEWAY_CONFIG", GATEWAY_CONFIG))["AMQP_URI"]


@dlq.command("list")
@click.option("--amqp-uri", envvar="AMQP_URI", default=None, help="The broker (default: the gateway's AMQP_URI).")
@click.option("--limit", default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line, payload included.")
def dlq_list(amqp_uri: str, limit: int, as_json: bool) -> None:
    """List dead letters (they stay in the queue)."""
    import json

    from casewire.messaging import DeadLetters

    letters = DeadLetters(_amqp_uri(amqp_uri)).peek(limit)
    for letter in letters:
        if as_json:
            click.echo(json.dumps(letter, default=str))
        else:
            click.echo(f"{letter['id']}  {letter['queue']}  attempts={letter['attempts']}  {letter['error']}")
    if not as_json:
        click.echo(f"{len(letters)} dead letter(s)")


@dlq.command("replay")
@click.option("--amqp-uri", envvar="AMQP_URI", default=None, help="The broker (default: the gateway's AMQP_URI).")
@click.option("--id", "ids", multiple=True, help="A dead letter's id (repeatable).")
@click.option("--all", "replay_all", is_flag=True, help="Replay every dead letter.")
def dlq_replay(amqp_uri: str, ids: tuple[str, ...], replay_all: bool) -> None:
    """Send dead letters back to the queue they failed from, with their attempts reset."""
    from casewire.messaging import DeadLetters

    if not ids and not replay_all:
        raise click.UsageError("name dead letters with --id, or pass --all")
    replayed = DeadLetters(_amqp_uri(amqp_uri)).replay(None if replay_all else set(ids))
    click.echo(f"{len(replayed)} dead letter(s) replayed")
    missing = set(ids) - set(replayed)
    if missing:
        raise click.ClickException(f"not found: {', '.join(sorted(missing))}")


@main.command()
@click.argument("service", type=click.Choice(["intake", "entities", "search", "cases", "audit"]))
@click.option("--live", is_flag=True, help="Liveness: pass on a fresh heartbeat, even if a backend is down.")
@click.option("--max-age", default=60.0, show_default=True, help="Seconds after which a heartbeat is stale.")
def probe(service: str, live: bool, max_age: float) -> Never:
    """Exit 0 when this pod's SERVICE process wrote a fresh heartbeat with every backend up, else 1.

    An exec probe: it reads the heartbeat file the process itself writes (HEARTBEAT_DIR, default /tmp),
    so it checks the process in its own container, not any replica that answers RPC.
    """
    from casewire.probe import heartbeat_dir, heartbeat_path
    from casewire.probe import probe as run_probe

    healthy, why = run_probe(heartbeat_path(heartbeat_dir(), service), service, max_age, live)
    click.echo(why, err=not healthy)
    raise SystemExit(0 if healthy else 1)


from casewire_cli.audit import audit  # noqa: E402

main.add_command(audit)

from casewire_cli.compliance import compliance  # noqa: E402

main.add_command(compliance)


SERVICES = Path(__file__).resolve().parent.parent / "services"


@main.group()
def metrics() -> None:
    """The outcome metrics' hour and day tallies (docs/outcomes.md)."""


@metrics.command()
@click.option("--service", "names", multiple=True, type=click.Choice(["intake", "cases"]), help="Only these.")
def rebuild(names: tuple[str, ...]) -> None:
    """Recompute every tally of intake's alerts and of the cases from the records, in one pass each
    (once after upgrading; the deltas of every change keep them after)."""
    from casewire.mongo import connect
    from services.cases.dependencies import CaseStore
    from services.intake.dependencies import AlertStore

    for name, store_class in (("intake", AlertStore), ("cases", CaseStore)):
        if names and name not in names:
            continue
        config = load_config(os.environ.get(f"{name.upper()}_CONFIG", SERVICES / name / "config.yaml"))
        client = connect(config["MONGODB_URI"], server_selection_timeout_ms=30000)
        try:
            store = store_class(client[config["MONGODB_DATABASE"]])
            store.ensure_indexes()
            found = store.tallies.rebuild(store.tallied())
        finally:
            client.close()
        click.echo(f"{name}: records {found['records']}, hour tallies {found['hours']}, day tallies {found['days']}")


SEARCH_CONFIG = SERVICES / "search" / "config.yaml"


@main.group()
def search() -> None:
    """The search indices: rebuild them from their owners, check them for drift."""


def _search_backend() -> tuple["SearchIndex", "ClusterRpcProxy"]:
    """The search index and an RPC caller, from the search service's own config file."""
    from nameko.standalone.rpc import ClusterRpcProxy

    from services.search.dependencies import SearchIndex, client_from

    config = load_config(os.environ.get("SEARCH_CONFIG", SEARCH_CONFIG))
    index = SearchIndex(client_from(config), config.get("INDEX_PREFIX", "casewire"))
    index.ensure_indices()
    cluster = ClusterRpcProxy({"AMQP_URI": config["AMQP_URI"]}, timeout=float(os.environ.get("RPC_TIMEOUT", 60)))
    return index, cluster


@search.command()
@click.option("--index", "names", multiple=True, help="Only these (alerts, cases, entities, sightings, purged).")
def reindex(names: tuple[str, ...]) -> None:
    """Rebuild every index from the services that own the records, then swap each alias atomically."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from services.search.mappings import INDICES
    from services.search.rebuild import rebuild

    index, cluster = _search_backend()
    with (
        cluster as rpc,
        Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
        ) as bar,
    ):
        for name in names or list(INDICES):
            task = bar.add_task(name, total=None)
            result = rebuild(
                index,
                name,
                lambda service, method, *args: getattr(getattr(rpc, service), method)(*args),
                lambda n, task=task: bar.advance(task, n),
                lambda total, task=task: bar.update(task, total=total),
            )
            bar.update(task, total=result["records"], completed=result["records"])
            how = "copied from the live index" if result["copied_from_live"] else "from its owner"
            bar.console.print(f"{name}: {result['records']} records {how} into {result['index']}")


@search.command()
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
@click.option("--show", default=10, show_default=True, help="Ids to list per kind of drift.")
@click.option(
    "--index",
    "names",
    multiple=True,
    type=click.Choice(("alerts", "cases", "entities", "sightings")),
    help="Only these.",
)
def check(as_json: bool, show: int, names: tuple[str, ...]) -> Never:
    """Report drift between the owning services and the index: missing, extra and stale records.

    Exits 0 when the index matches, 1 on drift, 2 when an owner could not be asked (its export RPC is missing).
    """
    import json

    from services.search.rebuild import SOURCES
    from services.search.rebuild import check as check_index

    index, cluster = _search_backend()
    with cluster as rpc:
        call = lambda service, method, *args: getattr(getattr(rpc, service), method)(*args)  # noqa: E731
        report = {name: check_index(index, name, call) for name in names or list(SOURCES)}
    drift = any(report[name][kind] for name in report for kind in ("missing", "extra", "stale"))
    skipped = any(found.get("skipped") for found in report.values())
    if as_json:
        click.echo(json.dumps({"drift": drift, "skipped": skipped, "indices": report}, indent=2))
    else:
        for name, found in report.items():
            if found.get("skipped"):
                click.echo(f"{name}: not checked ({found['skipped']})")
                continue
            counts = ", ".join(f"{len(found[kind])} {kind}" for kind in ("missing", "extra", "stale"))
            click.echo(f"{name}: {found['checked']} in the source; {counts}")
            for kind in ("missing", "extra", "stale"):
                for doc_id in found[kind][:show]:
                    click.echo(f"  {kind}: {doc_id}")
    raise SystemExit(1 if drift else 2 if skipped else 0)
