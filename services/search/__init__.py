"""Search: Elasticsearch indices of entities, alerts and cases, fed by events."""
