"""Webhook subscriptions: who receives which case events, and one delivery attempt over HTTP."""

import hashlib
import hmac
import json
from datetime import datetime, timedelta

import requests

from services.cases import rules

ATTEMPT_TIMEOUT = 5
MAX_BACKOFF = timedelta(minutes=10)


def may_receive(webhook: dict, case: dict) -> bool:
    """Same agency; a unit subscription gets its unit's cases; hidden intelligence stays in its unit."""
    if webhook.get("agency") != case.get("agency"):
        return False
    if webhook.get("unit") and webhook["unit"] != case.get("unit"):
        return False
    secret = case.get("classification") == rules.CRIMINAL_INTELLIGENCE and (
        case.get("review_state") == "pending_review" or case.get("sensitivity") == "restricted"
    )
    return not secret or webhook.get("unit") == case.get("unit")


def body_of(delivery: dict) -> bytes:
    document = {"id": delivery["_id"], "event": delivery["event"], "data": delivery["data"]}
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def attempt(webhook: dict, delivery: dict) -> str | None:
    """POST the event once; None on a 2xx answer, else what went wrong."""
    body = body_of(delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "casewire-webhooks",
        "X-Casewire-Event": delivery["event"],
        "X-Casewire-Delivery": delivery["_id"],
    }
    if webhook.get("secret"):
        digest = hmac.new(webhook["secret"].encode(), body, hashlib.sha256).hexdigest()
        headers["X-Casewire-Signature"] = f"sha256={digest}"
    try:
        response = requests.post(webhook["url"], data=body, headers=headers, timeout=ATTEMPT_TIMEOUT)
    except requests.RequestException as exc:
        return f"{type(exc).__name__}: {exc}"
    return None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"


def next_try(now: datetime, attempts: int) -> datetime:
    """Exponential backoff: 1 s, 2 s, 4 s... at most ten minutes."""
    return now + min(timedelta(seconds=2 ** (attempts - 1)), MAX_BACKOFF)
