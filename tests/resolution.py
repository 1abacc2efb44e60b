"""One alert through the entities service's batch RPC (a single alert is a batch of one)."""


def resolve_one(entities, alert: dict) -> dict:
    """``entities.resolve_alerts`` of one ``alerts_received`` item; its ``alerts_resolved`` item."""
    return entities.resolve_alerts({"alerts": [alert]})[0]
