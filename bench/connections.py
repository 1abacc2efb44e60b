"""Connection latency: from an alert's 201 to its ``link_found`` on the stream, when its plate was seen before."""

import json
import threading
import time

import requests

from bench import ingest
from bench.generate import Generator
from bench.measure import percentiles
from bench.stack import Stack


class StreamWatch:
    """Reads ``GET /api/v1/stream`` in a thread, noting when each alert's ``link_found`` arrives."""

    def __init__(self, session: requests.Session, url: str):
        self.arrivals: dict[str, float] = {}
        self._response = session.get(f"{url}/api/v1/stream", stream=True, timeout=(10, 600))
        self._response.raise_for_status()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        event = None
        try:
            for line in self._response.iter_lines(decode_unicode=True):
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event == "link_found":
                    self.arrivals[json.loads(line.split(":", 1)[1])["alert_id"]] = time.perf_counter()
        except Exception:  # the stream closes when the benchmark ends
            return

    def close(self) -> None:
        self._response.close()


def link_latency(session: requests.Session, stack: Stack, generator: Generator, count: int) -> dict:
    """Post a read of an already-seen plate ``count`` times; time each 201 → link_found."""
    watch = StreamWatch(session, stack.url)
    sent: dict[str, float] = {}
    try:
        for n in range(count):
            seen = generator.alpr_alert(run=f"link{n}a")
            again = dict(generator.alpr_alert(run=f"link{n}b"), payload={**seen["payload"], "camera_id": "cam-x"})
            session.post(f"{stack.url}/api/v1/alerts", json=seen, timeout=60).raise_for_status()
            response = session.post(f"{stack.url}/api/v1/alerts", json=again, timeout=60)
            response.raise_for_status()
            sent[response.json()["id"]] = time.perf_counter()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not all(alert in watch.arrivals for alert in sent):
            time.sleep(0.1)
    finally:
        watch.close()
    samples = [(watch.arrivals[alert] - at) * 1000 for alert, at in sent.items() if alert in watch.arrivals]
    return {**percentiles(samples or [float("nan")]), "missing": len(sent) - len(samples)}


def while_ingesting(
    session: requests.Session,
    stack: Stack,
    completion: ingest.Completion,
    generator: Generator,
    count: int,
    rate: float,
) -> dict:
    """:func:`link_latency` while batches arrive at ``rate`` alerts a second (half the measured maximum)."""

    found: dict = {}
    background = threading.Thread(
        target=lambda: found.update(
            ingest=ingest.throughput(session, stack, completion, generator, 10 + count * 0.3, run="busy", rate=rate)
        )
    )
    background.start()
    time.sleep(5)  # the ingest is under way
    try:
        found.update(link_latency(session, stack, generator, count))
    finally:
        background.join()
    return found
