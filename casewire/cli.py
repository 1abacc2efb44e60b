"""The ``casewire`` command: operator tools. Each command imports what it needs when it runs."""

import os
from pathlib import Path

import click

from casewire.config import load_config

GATEWAY_CONFIG = Path(__file__).resolve().parent.parent / "gateway" / "config.yaml"


@click.group()
def main():
    """Casewire operator commands."""


@main.command()
@click.option("--sub", required=True, help="User or system id, e.g. alice or flock-webhook.")
@click.option("--roles", required=True, help="Comma-separated: source, analyst, detective, supervisor, auditor, admin.")
@click.option("--agency", default=None, help="The agency's ORI, e.g. TX0000000.")
@click.option("--unit", default=None, help="The user's unit, e.g. rtcc or homicide.")
@click.option("--name", default=None, help="Display name.")
@click.option("--hours", default=12.0, show_default=True, help="Lifetime of the token.")
def token(sub, roles, agency, unit, name, hours):
    """Mint a development token (HS256, signed with the gateway's DEV_JWT_SECRET)."""
    from gateway.auth import mint_dev_token
    from gateway.permissions import ROLES

    wanted = [role.strip() for role in roles.split(",") if role.strip()]
    unknown = sorted(set(wanted) - set(ROLES))
    if unknown:
        raise click.BadParameter(f"unknown roles {unknown}; choose from {list(ROLES)}", param_hint="--roles")
    config = load_config(os.environ.get("GATEWAY_CONFIG", GATEWAY_CONFIG))
    if config.get("OIDC_JWKS_URL"):
        raise click.UsageError("this gateway verifies OIDC tokens; ask the identity provider for one")
    click.echo(mint_dev_token(config["DEV_JWT_SECRET"], sub, wanted, agency, unit, name, hours))


@main.command()
@click.option("--gateway", default="http://127.0.0.1:8080", show_default=True, help="The gateway's URL.")
def demo(gateway):
    """Load the demo data set (the seed's story) through the gateway; safe to run twice."""
    import requests

    from casewire import demo as demo_data
    from gateway.auth import mint_dev_token

    config = load_config(os.environ.get("GATEWAY_CONFIG", GATEWAY_CONFIG))
    token = mint_dev_token(config["DEV_JWT_SECRET"], "demo-loader", ["source"], agency="TX0000000")
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    results = demo_data.load(lambda body: session.post(f"{gateway}/api/v1/alerts", json=body, timeout=60))
    created = sum(1 for status, _ in results if status == 201)
    click.echo(f"demo data: {created} alerts created, {len(results) - created} already there")


SEARCH_CONFIG = Path(__file__).resolve().parent.parent / "services" / "search" / "config.yaml"


@main.group()
def search():
    """The search indices: rebuild them from their owners, check them for drift."""


def _search_backend():
    """The search index and an RPC caller, from the search service's own config file."""
    from nameko.standalone.rpc import ClusterRpcProxy

    from services.search.dependencies import SearchIndex, connect

    config = load_config(os.environ.get("SEARCH_CONFIG", SEARCH_CONFIG))
    index = SearchIndex(connect(config["ELASTICSEARCH_URL"]), config.get("INDEX_PREFIX", "casewire"))
    index.ensure_indices()
    cluster = ClusterRpcProxy({"AMQP_URI": config["AMQP_URI"]}, timeout=float(os.environ.get("RPC_TIMEOUT", 60)))
    return index, cluster


@search.command()
@click.option("--index", "names", multiple=True, help="Only these (alerts, cases, entities, sightings, purged).")
def reindex(names):
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
def check(as_json, show):
    """Report drift between the owning services and the index: missing, extra and stale records.

    Exits 0 when the index matches, 1 on drift, 2 when an owner could not be asked (its export RPC is missing).
    """
    import json

    from services.search.rebuild import SOURCES
    from services.search.rebuild import check as check_index

    index, cluster = _search_backend()
    with cluster as rpc:
        call = lambda service, method, *args: getattr(getattr(rpc, service), method)(*args)  # noqa: E731
        report = {name: check_index(index, name, call) for name in SOURCES}
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
