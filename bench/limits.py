"""The limit: the same documents written straight to MongoDB (insert_many) and Elasticsearch (bulk)."""

import time

from elasticsearch import Elasticsearch, helpers
from pymongo import MongoClient


def direct_write(alerts: list[dict], mongo_uri: str, es_url: str, batch: int = 1000) -> dict:
    """Alerts per second with no services in between: one collection, one index, no resolution."""
    client, es = MongoClient(mongo_uri), Elasticsearch(es_url, request_timeout=120)
    collection, index = client["bench_limit"]["alerts"], "bench-limit-alerts"
    collection.drop()
    es.options(ignore_status=404).indices.delete(index=index)
    es.indices.create(index=index, settings={"number_of_shards": 1, "number_of_replicas": 0})
    started = time.perf_counter()
    for i in range(0, len(alerts), batch):
        chunk = [dict(alert, _id=alert["source_event_id"]) for alert in alerts[i : i + batch]]
        collection.insert_many(chunk, ordered=False)
        helpers.bulk(
            es,
            ({"_index": index, "_id": a["_id"], "_source": {k: v for k, v in a.items() if k != "_id"}} for a in chunk),
        )
    es.indices.refresh(index=index)
    elapsed = time.perf_counter() - started
    collection.drop()
    es.indices.delete(index=index)
    client.close()
    es.close()
    return {"alerts": len(alerts), "seconds": round(elapsed, 2), "alerts_per_second": round(len(alerts) / elapsed)}
