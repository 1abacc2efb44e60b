"""``python -m bench.list_only``: the alert list benchmark alone, on a stack of its own, kept between runs.

Seeding 100,000 alerts takes minutes, so this run keeps its stores: it starts the stack (a no-op for
a process already running), tops the alerts up to ``--alerts`` only when fewer are stored, and times
the pages. Its stores are named by ``--prefix`` (databases ``<prefix>_*``, indices
``<prefix>-casewire-*``), its broker by ``--vhost`` and its gateway by ``--port``: give ones no other
run uses. ``--restart`` restarts the services first (to measure changed code); ``--reset`` empties
the stores first.
"""

import json
import os
from datetime import UTC, datetime

import click
import requests
from nameko.standalone.rpc import ClusterRpcProxy
from rich.console import Console
from rich.progress import Progress

from bench import alert_list, ingest, search_scale
from bench.generate import Generator
from bench.measure import percentiles, timed
from bench.run import AGENCY, ES_URL, MONGO_URI, session_for
from bench.stack import Stack


@click.command()
@click.option("--port", type=int, required=True, help="The gateway's port.")
@click.option("--vhost", required=True, help="The RabbitMQ vhost of the stack.")
@click.option("--prefix", required=True, help="Database and index prefix of the stack.")
@click.option("--alerts", type=int, default=100_000, show_default=True, help="Alerts stored before timing.")
@click.option("--sightings", type=int, default=300_000, show_default=True, help="Sightings indexed at the reset.")
@click.option("--ingest-seconds", type=float, default=30.0, show_default=True, help="Pipeline ingest at the reset.")
@click.option("--queries", type=int, default=200, show_default=True, help="First and next pages timed.")
@click.option("--reset", is_flag=True, help="Empty the stores and seed them anew.")
@click.option("--restart", is_flag=True, help="Restart the services before timing.")
@click.option("--breakdown", is_flag=True, help="Also time each service call of a first page over RPC.")
@click.option("--against", type=int, help="Another gateway over the same stores: pages timed in turn with this one's.")
def main(
    port: int,
    vhost: str,
    prefix: str,
    alerts: int,
    sightings: int,
    ingest_seconds: float,
    queries: int,
    reset: bool,
    restart: bool,
    breakdown: bool,
    against: int | None,
) -> None:
    """At a reset the stack ingests through the pipeline for ``--ingest-seconds`` (the newest alerts,
    those the pages show, then have resolutions and sightings, as on a stack that ingested them all)
    and the index gets ``--sightings`` more reads of the same vehicles (the related counts' work)."""
    console = Console()
    stack = Stack(port=port, vhost=vhost, prefix=prefix)
    generator = Generator()
    if reset:
        stack.reset(MONGO_URI, ES_URL)
    elif restart:
        stack.stop()
    stack.start()
    session = session_for(stack)
    with Progress(console=console, transient=True) as progress:
        stored = alert_list.seed(
            MONGO_URI, stack.databases["intake"], ES_URL, stack.index_prefix, generator, alerts, progress
        )
        if reset:
            search_scale.seed(ES_URL, stack.index_prefix, generator, sightings, AGENCY, progress)
    if reset:
        completion = ingest.Completion(stack, MONGO_URI, ES_URL)
        ingest.throughput(session, stack, completion, generator, ingest_seconds, run="list")
    urls = [stack.url] + ([f"http://127.0.0.1:{against}"] if against else [])
    for url in urls:
        alert_list.list_pages(session, url, 10)  # warm-up: the first calls open connections
    load_before = os.getloadavg()
    pages = in_turn(session, urls, queries)
    result = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "alerts_stored": stored,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        **pages[0],
    }
    if against:
        result["against"] = pages[1]
    if breakdown:
        result["calls"] = calls(stack, session, queries)
    console.print(json.dumps(result))


def in_turn(session: requests.Session, urls: list[str], queries: int) -> list[dict]:
    """:func:`alert_list.list_pages` of each gateway, one query of each in turn (so they share the load
    of the machine); p50/p95 per gateway."""
    samples = {url: {"first_page": [], "next_page": []} for url in urls}
    for _ in range(queries):
        for url in urls:
            for page, numbers in alert_list.list_pages(session, url, 1).items():
                samples[url][page].append(numbers["p50_ms"])
    return [{page: percentiles(found) for page, found in samples[url].items()} for url in urls]


def calls(stack: Stack, session: requests.Session, queries: int) -> dict:
    """p50/p95 of each service call the gateway makes for a first page, made one after another over RPC,
    and of the first page through the gateway, each page just before its calls (under the same load)."""
    context = {"actor": {"id": "bench", "agency": AGENCY, "roles": ["analyst", "source"]}, "unit": "rtcc"}
    filters = {"status": "new", "source": "alpr"}
    samples: dict[str, list[float]] = {"gateway page": [], "search.alert_page": []}
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=60) as rpc:
        for _ in range(queries):
            elapsed, response = timed(lambda: session.get(f"{stack.url}/api/v1/alerts", params=filters, timeout=60))
            response.raise_for_status()
            samples["gateway page"].append(elapsed)
            samples["search.alert_page"].append(timed(lambda: rpc.search.alert_page(filters, context, 50, None))[0])
    return {name: percentiles(found) for name, found in samples.items()}


if __name__ == "__main__":
    main()
