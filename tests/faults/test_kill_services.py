"""SIGKILL each process in the middle of a batch ingest, restart it, and lose or double nothing.

The client sends ``CASEWIRE_FAULTS_ALERTS`` (5,000; fewer for a quick local run) ALPR alerts through
``POST /api/v1/alerts/batch`` in chunks (a tenth of the run, 100 to 500 alerts) and, as a careful
source system does, sends a chunk again when it gets a 503, a connection error or a timeout. While
it sends, each process in turn (intake, entities, search, audit, the gateway) is killed with
SIGKILL (no clean shutdown, nothing acknowledged) and started again, each once a further sixth of
the alerts has been accepted. In the end every accepted alert must be stored once in intake's
database, have one sighting in entities' database, be in the search index (``casewire search
check``: no drift), and have exactly one ``alert.create`` audit event, with the audit chain
verifying.
"""

from tests.faults.conftest import ALERTS, Client, assert_exactly_once, make_alerts

VICTIMS = ("intake", "entities", "search", "audit", "gateway")


def test_sigkill_of_each_process_during_batch_ingest_loses_and_doubles_nothing(stack):
    client = Client(stack, make_alerts("kill-each"))
    client.start()
    for turn, victim in enumerate(VICTIMS, start=1):
        client.wait_for(min(ALERTS - 1, turn * ALERTS // (len(VICTIMS) + 1)), timeout=600)
        stack.kill(victim)
        # Restarts what is not running and waits until /readyz is 200: the victim is gone for the whole
        # of its start (its imports, its connections), while work piles up in its queues or the client retries.
        stack.services("start")
    client.finish()
    assert_exactly_once(stack, client)
