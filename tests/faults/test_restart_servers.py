"""Restart RabbitMQ, then the MongoDB server (FerretDB), then Elasticsearch during a batch ingest.

The same client and end checks as ``test_kill_services``: every alert the gateway accepted (201 or
200) is stored, linked, indexed and audited exactly once, and ``casewire search check`` finds no
drift once Elasticsearch is back. While RabbitMQ or the MongoDB server is down, a batch is answered
503 (the gateway cannot store its audit event, or intake cannot store the alerts), never 201: the
client's chunks sent meanwhile get 503 or a timeout and are sent again after the restart. While
Elasticsearch is down, ingest goes on (nothing needs it to store an alert durably) and the index
catches up afterwards.

The ingest here is ``CASEWIRE_FAULTS_RESTART_ALERTS`` alerts (1,000): three servers restart in turn
during it, and the 5,000-alert run of ``test_kill_services`` already covers the size; a larger run
only makes the suite longer (each restart waits for the whole stack to be ready again).
"""

import os

import requests

from tests.faults.conftest import ALERTS, Client, assert_exactly_once, make_alerts

SERVERS_IN_TURN = ("rabbitmq", "ferretdb", "elasticsearch")
RESTART_ALERTS = int(os.environ.get("CASEWIRE_FAULTS_RESTART_ALERTS", str(min(ALERTS, 1000))))
ES_PROBES = 4


def _probe(stack, server: str) -> requests.Response:
    """One small batch sent while ``server`` is down. Without Elasticsearch ingest goes on, but intake
    shares its workers with the client's batches, so a probe that timed out behind them (503 naming no
    server) is sent again, a few times, while Elasticsearch is still down."""
    for _ in range(ES_PROBES if server == "elasticsearch" else 1):
        answer = requests.post(
            f"{stack.url}/api/v1/alerts/batch",
            json={"alerts": make_alerts(f"probe-{server}", count=5)},
            headers={"Authorization": f"Bearer {stack.token('source')}"},
            timeout=120,
        )
        if answer.status_code != 503:
            break
    return answer


def test_restarting_each_server_during_ingest_loses_and_doubles_nothing(stack, servers):
    client = Client(stack, make_alerts("restart-servers", count=RESTART_ALERTS), chunk=max(100, RESTART_ALERTS // 10))
    client.start()
    answers_while_down = {}
    for turn, server in enumerate(SERVERS_IN_TURN, start=1):
        client.wait_for(turn * RESTART_ALERTS // (len(SERVERS_IN_TURN) + 1), timeout=600)
        servers.stop(server)
        answers_while_down[server] = _probe(stack, server)
        servers.start(server)
        stack.services("start")  # nothing was killed: this waits until /readyz is 200 again
    client.finish()
    assert answers_while_down["rabbitmq"].status_code == 503, answers_while_down["rabbitmq"].text
    assert answers_while_down["ferretdb"].status_code == 503, answers_while_down["ferretdb"].text
    assert answers_while_down["elasticsearch"].status_code == 200, answers_while_down["elasticsearch"].text
    assert set(client.answers) <= {200, 503, "connection error"}, client.answers  # never a 500
    assert_exactly_once(stack, client)
