"""Webhook subscriptions: who receives which case events, where they may go, and one delivery over HTTP.

Deliveries are notices with ids, like the stream's: a case's title, summary, labels or a searcher's
terms never leave in a webhook. Whoever receives one reads the record through the API, as an audited
request by a person allowed to (C10: no release of case content happens without its dissemination entry).

Every delivery is signed the Standard Webhooks way (standardwebhooks.com): ``webhook-id`` (the same for
every retry of a delivery, so a receiver keeps each once), ``webhook-timestamp`` (this attempt's time,
so a receiver refuses replays) and ``webhook-signature`` (``v1,`` and the base64 HMAC-SHA256 of
``id.timestamp.body`` keyed by the subscription's ``whsec_`` secret). The body is
``{"type", "timestamp", "data"}``, or for a subscription in the ``chat`` format ``{"text"}``: one line a
chat tool's incoming webhook (Slack, Mattermost, Google Chat) shows as a message, made of the notice alone.
"""

import base64
import ipaddress
import json
import secrets
import socket
import string
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import requests
from standardwebhooks.webhooks import Webhook

from casewire.contracts.case_inputs import SECRET_PREFIX
from services.cases import rules

ATTEMPT_TIMEOUT = 5
MAX_BACKOFF = timedelta(minutes=10)
ALLOWED_HOSTS_KEY = "WEBHOOK_ALLOWED_HOSTS"
CHAT_LINES = {
    "case_updated": "Case {case_id}: {change} (status {status}, version {version})",
    "case_assigned": "Case {case_id} assigned to {assignee} by {assigned_by}",
    "alert_overdue": "Alert {alert_id} ({priority} {source}) is overdue for triage since {triage_due}",
    "control_official_notified": "A search by {searcher} ({searcher_agency}) hit restricted case {case_id}; "
    "see notification {notification_id}",
    "dissemination_recipient_notified": "Case {case_id} was {change} after its release to {recipient} "
    "({agency}); see notification {notification_id}",
}
# What each event's delivery carries: ids, states and times, never content.
NOTICE_FIELDS = {
    "case_updated": ("case_id", "change", "status", "version", "updated_at"),
    "case_assigned": ("case_id", "assignee", "assigned_by", "at", "version"),
    "alert_overdue": (
        "alert_id",
        "source",
        "priority",
        "status",
        "agency",
        "unit",
        "assignee",
        "received_at",
        "triage_due",
        "escalated_at",
    ),
    "control_official_notified": (
        "notification_id",
        "case_id",
        "control_official",
        "unit",
        "searcher",
        "searcher_agency",
        "searcher_unit",
        "at",
    ),
    "dissemination_recipient_notified": (
        "notification_id",
        "case_id",
        "dissemination_id",
        "recipient",
        "agency",
        "change",
        "fields_changed",
        "at",
    ),
}


def notice(event_type: str, payload: dict) -> dict:
    """What a delivery of ``event_type`` carries: the payload cut to :data:`NOTICE_FIELDS`."""
    return {key: payload[key] for key in NOTICE_FIELDS.get(event_type, ()) if key in payload}


def allowed_hosts(setting: str | None) -> frozenset[str]:
    """``WEBHOOK_ALLOWED_HOSTS``: host names or addresses, comma or space separated; ``.example.org``
    allows every subdomain of example.org. Empty allows none."""
    return frozenset(host.strip().lower().rstrip(".") for host in (setting or "").replace(",", " ").split())


def url_refusal(url: str, allowed: frozenset[str], resolve: Callable[..., list] = socket.getaddrinfo) -> str | None:
    """Why a webhook may not be sent to ``url`` (None if it may): the SSRF guard.

    The host must be allowed; a host allowed only through a ``.domain`` pattern must resolve to public
    addresses only (private, loopback and link-local addresses need the host named exactly). Checked
    at subscription and again before every delivery, as DNS answers change.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    exact = host in allowed
    if not exact and not any(pattern.startswith(".") and host.endswith(pattern) for pattern in allowed):
        return f"{host or url} is not in {ALLOWED_HOSTS_KEY}"
    if exact:
        return None
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = {info[4][0].split("%")[0] for info in resolve(host, port, proto=socket.IPPROTO_TCP)}
    except (OSError, ValueError):
        return f"{host} does not resolve"
    if any(not ipaddress.ip_address(address).is_global for address in addresses):
        return f"{host} resolves to a private, loopback or link-local address; name it in {ALLOWED_HOSTS_KEY}"
    return None


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


def new_secret() -> str:
    """A subscription's signing secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "-"


def chat_line(event_type: str, data: dict) -> str:
    """The notice as one line of text, for people reading a chat channel."""
    line = string.Formatter().vformat(CHAT_LINES.get(event_type, event_type), (), _Blank(data))
    return f"Casewire: {line}"


def body_of(webhook: dict, delivery: dict) -> str:
    """The delivery's body in the subscription's format (the same for every attempt)."""
    if webhook.get("format") == "chat":
        document = {"text": chat_line(delivery["event"], delivery["data"])}
    else:
        created = delivery["created_at"]
        timestamp = created.astimezone(UTC).isoformat() if isinstance(created, datetime) else created
        document = {"type": delivery["event"], "timestamp": timestamp, "data": delivery["data"]}
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def signed(webhook: dict, delivery: dict, body: str, now: datetime) -> dict:
    """The Standard Webhooks headers of one attempt made at ``now``."""
    headers = {"webhook-id": delivery["_id"], "webhook-timestamp": str(int(now.timestamp()))}
    if webhook.get("secret"):
        headers["webhook-signature"] = Webhook(webhook["secret"]).sign(delivery["_id"], now.astimezone(UTC), body)
    return headers


def attempt(webhook: dict, delivery: dict, allowed: frozenset[str], now: datetime | None = None) -> str | None:
    """POST the event once, signed, redirects not followed; None on a 2xx answer, else what went wrong."""
    refusal = url_refusal(webhook["url"], allowed)
    if refusal:
        return f"refused: {refusal}"
    body = body_of(webhook, delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "casewire-webhooks",
        "X-Casewire-Event": delivery["event"],
        **signed(webhook, delivery, body, now or datetime.now(UTC)),
    }
    try:
        response = requests.post(
            webhook["url"], data=body.encode(), headers=headers, timeout=ATTEMPT_TIMEOUT, allow_redirects=False
        )
    except requests.RequestException as exc:
        return f"{type(exc).__name__}: {exc}"
    return None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"


def next_try(now: datetime, attempts: int) -> datetime:
    """Exponential backoff: 1 s, 2 s, 4 s... at most ten minutes."""
    return now + min(timedelta(seconds=2 ** (attempts - 1)), MAX_BACKOFF)
