"""``python -m bench.run``: run the benchmarks, print a table, write bench/results/<time>.json.

Sizes default to the issue's targets; ``--quick`` shrinks them for a smoke run.
"""

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import click
import requests
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from bench import alert_list, connections, dashboard, ingest, limits, search_scale
from bench.generate import Generator
from bench.stack import Stack
from casewire.config import load_config
from gateway.auth import mint_dev_token

RESULTS = Path(__file__).resolve().parent / "results"
MONGO_URI = os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27017/")
AGENCY = "TX0000000"  # the benchmark user's agency: what it submits, and what it finds
ES_URL = os.environ.get("ELASTICSEARCH_URL", "http://127.0.0.1:9200")
Result = TypeVar("Result")


def machine() -> dict:
    meminfo = Path("/proc/meminfo").read_text().split("\n")[0].split()[1]
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(int(meminfo) / 1024 / 1024, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def session_for(stack: Stack) -> requests.Session:
    secret = load_config(Path(__file__).resolve().parent.parent / "gateway" / "config.yaml")["DEV_JWT_SECRET"]
    session = requests.Session()
    token = mint_dev_token(secret, "bench", ["analyst", "source"], agency=AGENCY, unit="rtcc")
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def _size(text: str) -> tuple[str, int]:
    key, _, value = text.partition("=")
    try:
        return key.strip(), int(value.replace(",", "").replace("_", ""))
    except ValueError:
        raise click.BadParameter(f"{text!r}: use KEY=NUMBER, e.g. sightings=1000000") from None


@click.command()
@click.option("--quick", is_flag=True, help="Small sizes: a smoke run of every benchmark.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=N", help="Override a size: --set sightings=1000000.")
def main(quick: bool, overrides: tuple[str, ...]) -> None:
    sizes = (
        dict(
            vehicles=2_000,
            sightings=20_000,
            listed_alerts=5_000,
            limit_alerts=5_000,
            queries=50,
            ingest_seconds=20,
            stored_alerts=5_000,
            loaded_seconds=15,
            single=100,
            links=30,
            cases=2_000,
        )
        if quick
        else dict(
            vehicles=200_000,
            sightings=1_000_000,
            listed_alerts=100_000,
            limit_alerts=100_000,
            queries=300,
            ingest_seconds=300,
            stored_alerts=100_000,
            loaded_seconds=120,
            single=500,
            links=200,
            cases=100_000,
        )
    )
    for key, value in map(_size, overrides):
        if key not in sizes:
            raise click.BadParameter(f"no size {key!r}; the sizes are {', '.join(sizes)}")
        sizes[key] = value
    console = Console()
    results = {"at": datetime.now(UTC).isoformat(), "quick": quick, "machine": machine(), "sizes": sizes}
    results["load_average_before"] = os.getloadavg()  # what else ran on the machine: read with the numbers
    generator = Generator(vehicles=sizes["vehicles"])
    out = RESULTS / f"{results['at'][:19].replace(':', '')}.json"

    def record(name: str, value: Result) -> Result:
        """Keep a benchmark's result and write the results so far: a run that fails later keeps them."""
        results[name] = value
        console.print(f"{datetime.now(UTC):%H:%M:%S} {name}: {json.dumps(value)[:300]}")
        RESULTS.mkdir(exist_ok=True)
        out.write_text(json.dumps(results, indent=2))
        return value

    stack = Stack()
    stack.reset(MONGO_URI, ES_URL)
    stack.start()
    try:
        session = session_for(stack)
        alerts = [generator.alpr_alert(run="limit") for _ in range(sizes["limit_alerts"])]
        limit = record("limit", limits.direct_write(alerts, MONGO_URI, ES_URL))
        completion = ingest.Completion(stack, MONGO_URI, ES_URL)
        run = ingest.throughput(session, stack, completion, generator, sizes["ingest_seconds"])
        run["ratio_to_limit"] = round(run["completed_per_second"] / limit["alerts_per_second"], 2)
        record("ingest", run)
        record("memory_rss_mb", stack.rss_mb())  # at the end of the ingest run
        record("big_batch", ingest.big_batch(session, stack, completion, generator))
        record("single_post", ingest.single_latency(session, stack, generator, sizes["single"]))
        record("link_found", connections.link_latency(session, stack, generator, sizes["links"]))
        busy = connections.while_ingesting(
            session, stack, completion, generator, sizes["links"], rate=run["completed_per_second"] / 2
        )
        record("link_found_busy", busy)
        fill(session, stack, completion, generator, sizes["stored_alerts"])
        loaded = ingest.throughput(session, stack, completion, generator, sizes["loaded_seconds"], run="loaded")
        loaded["ratio_to_empty"] = round(loaded["completed_per_second"] / run["completed_per_second"], 2)
        record("ingest_loaded", loaded)
        with Progress(console=console, transient=True) as progress:
            stored = alert_list.seed(
                MONGO_URI, stack.databases["intake"], ES_URL, stack.index_prefix, generator,
                sizes["listed_alerts"], progress,
            )  # fmt: skip
            record("alerts_stored", stored)
            record(
                "search_index",
                search_scale.seed(ES_URL, stack.index_prefix, generator, sizes["sightings"], AGENCY, progress),
            )
        record("plate_search", search_scale.plate_searches(session, stack.url, generator, sizes["queries"]))
        record("alert_list", alert_list.list_pages(session, stack.url, sizes["queries"]))
        record("dashboard", dashboard.measure(MONGO_URI, cases=sizes["cases"], alerts=sizes["cases"]))
    finally:
        stack.stop()
        results["load_average_after"] = os.getloadavg()  # 1, 5 and 15 minutes: the 15 covers most of a run
        RESULTS.mkdir(exist_ok=True)
        out.write_text(json.dumps(results, indent=2))
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2))
    console.print(table(results))
    console.print(f"written: {out}")


def fill(
    session: requests.Session, stack: Stack, completion: ingest.Completion, generator: Generator, stored: int
) -> None:
    """Ingest until the stack holds ``stored`` alerts (what the loaded run starts with)."""
    while completion.counts()["stored"] < stored:
        missing = stored - completion.counts()["stored"]
        ingest.throughput(session, stack, completion, generator, max(5.0, missing / 400), run="fill")


def table(results: dict) -> Table:
    view = Table(title=f"Casewire benchmarks ({results['machine']['cores']} cores, {results['machine']['cpu']})")
    view.add_column("benchmark")
    view.add_column("result", justify="right")
    view.add_row("direct MongoDB+ES write (the limit)", f"{results['limit']['alerts_per_second']} alerts/s")
    run = results["ingest"]
    view.add_row(
        f"ingest via /alerts/batch from empty stores ({run['alerts']:,} alerts, {run['clients']} clients)",
        f"{run['completed_per_second']} alerts/s done ({run['ratio_to_limit']} of the limit)",
    )
    view.add_row(
        "a batch of 250 answered", f"p50 {run['batch_answer']['p50_ms']} / p95 {run['batch_answer']['p95_ms']} ms"
    )
    loaded = results["ingest_loaded"]
    view.add_row(
        f"ingest with {loaded['stored_before']:,} alerts stored ({loaded['alerts']:,} alerts)",
        f"{loaded['completed_per_second']} alerts/s done ({loaded['ratio_to_empty']} of the empty-store rate)",
    )
    big = results["big_batch"]
    view.add_row(f"a batch of {big['size']:,} answered (idle)", f"p50 {big['p50_ms']} / p95 {big['p95_ms']} ms")
    single = results["single_post"]
    view.add_row("single POST /alerts", f"p50 {single['p50_ms']} / p95 {single['p95_ms']} / p99 {single['p99_ms']} ms")
    link = results["link_found"]
    view.add_row("201 → link_found on the stream (idle)", f"p50 {link['p50_ms']} / p95 {link['p95_ms']} ms")
    busy = results["link_found_busy"]
    view.add_row(
        f"201 → link_found while ingesting {busy['ingest']['accepted_per_second']} alerts/s",
        f"p50 {busy['p50_ms']} / p95 {busy['p95_ms']} ms",
    )
    for kind, numbers in results["plate_search"].items():
        view.add_row(
            f"plate search {kind}",
            f"p50 {numbers['p50_ms']} / p95 {numbers['p95_ms']} ms (first searches {numbers['cold_mean_ms']} ms)",
        )
    for page, numbers in results["alert_list"].items():
        view.add_row(
            f"alert list {page} ({results['alerts_stored']:,} alerts)",
            f"p50 {numbers['p50_ms']} / p95 {numbers['p95_ms']} ms",
        )
    board = results["dashboard"]
    view.add_row(
        f"case dashboard counts ({board['cases']:,} cases, {board['alerts']:,} alerts)",
        f"cases p50 {board['cases_outcomes']['p50_ms']} ms, alerts p50 {board['intake_funnel']['p50_ms']} ms",
    )
    view.add_row("index sizes", ", ".join(f"{k} {v:,}" for k, v in results["search_index"].items()))
    for name, rss in results["memory_rss_mb"].items():
        view.add_row(f"RSS {name}", f"{rss} MB")
    return view


if __name__ == "__main__":
    main()
