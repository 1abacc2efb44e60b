"""A small Server-Sent Events reader for the end-to-end tests: a thread parses frames into a queue."""

import json
import queue
import socket
import threading
import time

import pytest
import requests


class EventStream:
    """``GET /api/v1/stream`` held open; ``until(predicate)`` collects events until one matches."""

    def __init__(self, url: str, token: str, last_event_id: str | None = None):
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        self.response = requests.get(url, headers=headers, stream=True, timeout=(10, 120))
        self.events: queue.Queue = queue.Queue()
        self.first_line: queue.Queue = queue.Queue()
        if self.response.status_code == 200:
            threading.Thread(target=self._read, daemon=True).start()
            self.first_line.get(timeout=30)  # the server has answered: the subscription is live

    def _read(self) -> None:
        frame: dict = {}
        try:
            for line in self.response.iter_lines(decode_unicode=True):
                self.first_line.put(True)
                if line == "":
                    if "event" in frame:
                        self.events.put({**frame, "data": json.loads(frame.get("data", "null"))})
                    frame = {}
                elif not line.startswith(":"):
                    field, _, value = line.partition(":")
                    frame[field] = value.lstrip(" ")
        except (requests.RequestException, AttributeError, ValueError, OSError):
            pass  # closed by the test
        finally:
            self.response.close()

    def until(self, predicate, timeout: float = 60.0) -> list[dict]:
        """Every event received up to and including the first one ``predicate`` accepts."""
        seen, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                event = self.events.get(timeout=0.5)
            except queue.Empty:
                continue
            seen.append(event)
            if predicate(event):
                return seen
        pytest.fail(f"no matching event within {timeout}s; saw {[(e['event'], e.get('id')) for e in seen]}")

    def close(self) -> None:
        """Shut the socket down under the reader thread (closing the response from here is not thread-safe)."""
        try:
            self.response.raw._fp.fp.raw._sock.shutdown(socket.SHUT_RDWR)
        except (AttributeError, OSError):
            self.response.close()
