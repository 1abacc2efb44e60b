"""Poison messages land in the dead-letter queue, and ``casewire dlq`` lists and replays them.

A malformed ``alerts_received`` (it breaks the event schema; no retry can fix it) is published the
way intake publishes its events. Both consumers of that event, entities and search, dead-letter it
(``casewire.messaging.event_handler``) instead of dropping it or retrying it forever, and the
pipeline goes on. ``casewire dlq list`` shows both letters with their queue and error; ``casewire
dlq replay --id`` sends one back to the queue it failed from, with its attempts reset: its handler
runs again (and, the payload being as bad as before, dead-letters it again under a new id) while
the other letter stays where it is.
"""

import json
import time
import uuid

from nameko.standalone.events import event_dispatcher

from casewire import events

ENTITIES_QUEUE = "evt-intake-alerts_received--entities.handle_alerts_received"
SEARCH_QUEUE = "evt-intake-alerts_received--search.handle_alerts_received"


def _letters(stack, alert_id: str) -> list[dict]:
    listed = stack.cli("dlq", "list", "--json")
    assert listed.returncode == 0, listed.stderr[-2000:]
    letters = [json.loads(line) for line in listed.stdout.splitlines() if line.strip()]
    return [letter for letter in letters if _alert_ids(letter["payload"]) == [alert_id]]


def _alert_ids(payload) -> list:
    return [alert.get("alert_id") for alert in (payload or {}).get("alerts") or [] if isinstance(alert, dict)]


def _until(check, timeout: float = 120):
    deadline, value = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"not true within {timeout}s: last value {value!r}")


def test_a_poison_event_is_dead_lettered_by_each_consumer_and_replayed_through_the_cli(stack):
    alert_id = f"poison-{uuid.uuid4().hex}"
    dispatch = event_dispatcher({"AMQP_URI": stack.env["AMQP_URI"]})
    dispatch(events.INTAKE, events.ALERTS_RECEIVED, {"alerts": [{"alert_id": alert_id, "source": "alpr"}]})

    letters = _until(lambda: (found := _letters(stack, alert_id)) and len(found) == 2 and found)
    assert {letter["queue"] for letter in letters} == {ENTITIES_QUEUE, SEARCH_QUEUE}
    assert all("ValidationError" in letter["error"] and letter["attempts"] == 1 for letter in letters), letters
    first = next(letter for letter in letters if letter["queue"] == ENTITIES_QUEUE)

    replayed = stack.cli("dlq", "replay", "--id", first["id"])
    assert replayed.returncode == 0 and "1 dead letter(s) replayed" in replayed.stdout, (
        replayed.stdout + replayed.stderr
    )

    def failed_again():
        found = _letters(stack, alert_id)
        entities = [letter for letter in found if letter["queue"] == ENTITIES_QUEUE]
        return len(found) == 2 and entities and entities[0]["id"] != first["id"] and found

    again = _until(failed_again)
    assert {letter["queue"] for letter in again} == {ENTITIES_QUEUE, SEARCH_QUEUE}
    assert [letter["attempts"] for letter in again] == [1, 1]  # the replay reset its attempts
