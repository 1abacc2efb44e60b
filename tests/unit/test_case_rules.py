"""The cases service's rules as pure functions: workflow, the intelligence gate, visibility, sniffing."""

import json
import string
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from casewire.errors import Conflict
from services.cases import casefile, rules, webhooks

NOW = datetime(2026, 3, 1, tzinfo=UTC)
CI = {
    "_id": "c1",
    "classification": "criminal_intelligence",
    "unit": "narcotics",
    "submitting_unit": "narcotics",
    "agency": "TX0000000",
    "assignees": ["olga"],
    "review_state": "approved",
    "sensitivity": "agency_only",
}


def ctx(sub="dana", unit="narcotics", roles=("detective",), **extra):
    return {"actor": {"id": sub, "agency": "TX0000000", "roles": list(roles)}, "unit": unit, **extra}


@pytest.mark.parametrize(
    "frm,to", [("open", "open"), ("active", "open"), ("closed", "referred"), ("suspended", "referred")]
)
def test_illegal_transitions_raise_conflict(frm, to):
    with pytest.raises(Conflict):
        rules.check_transition(frm, to)


def test_every_status_can_be_left_and_none_returns_to_open():
    assert all(targets and "open" not in targets for targets in rules.TRANSITIONS.values())


def test_C2_every_required_field_is_named_and_the_narrative_is_measured():
    assert set(rules.ci_errors({}, 100)) == set(rules.CI_REQUIRED)
    assert "reasonable_suspicion" in rules.ci_errors({"reasonable_suspicion": "x" * 99}, 100)
    assert "reasonable_suspicion" not in rules.ci_errors({"reasonable_suspicion": "x" * 100}, 100)


def test_C4_protected_views_need_a_link():
    assert rules.protected_views_errors({"protected_views": True})
    assert not rules.protected_views_errors({"protected_views": True, "protected_views_link": "recruits for the crew"})


def test_C7_the_hit_text_is_not_a_predicate():
    alert = {"source": "alpr", "notes": "Y" * 120, "payload": {"hotlist_reason": "Z" * 120}}
    assert rules.sensor_predicate_errors(None, alert, 100)
    assert rules.sensor_predicate_errors("z" * 120, alert, 100)
    assert not rules.sensor_predicate_errors("An informant saw the driver hand packages at Elm St. " * 3, alert, 100)


def test_C13_review_due_at_most_five_years():
    assert not rules.review_due_errors(NOW + rules.REVIEW_PERIOD, NOW)
    assert "review_due" in rules.review_due_errors(NOW + rules.REVIEW_PERIOD + timedelta(days=1), NOW)


@pytest.mark.parametrize(
    "case,context,expected",
    [
        ({**CI, "review_state": "pending_review"}, ctx("olga", "homicide"), "secret"),  # C3, even assigned
        ({**CI, "review_state": "pending_review"}, ctx(), None),
        ({**CI, "sensitivity": "restricted"}, ctx("olga", "homicide"), "secret"),  # C6, even assigned
        (CI, ctx("olga", "homicide"), None),  # approved, agency_only, assigned
        (CI, ctx("pat", "homicide"), "forbidden"),
        ({**CI, "classification": "investigative"}, ctx("pat", "narcotics", ("supervisor",)), None),
        (CI, None, None),  # another service
    ],
)
def test_visibility(case, context, expected):
    assert rules.hidden_from(case, context) == expected


def test_C9_intelligence_needs_purpose_and_case_number():
    assert rules.lacks_purpose(CI, ctx(purpose="investigation"))
    assert not rules.lacks_purpose(CI, ctx(purpose="investigation", case_number="HPD-1"))
    assert not rules.lacks_purpose({**CI, "classification": "investigative"}, ctx())


@pytest.mark.parametrize(
    "data,expected",
    [
        (b"%PDF-1.7\n%\xe2\xe3", "application/pdf"),
        (b"plain words", "text/plain"),
        (b"MZ\x90\x00\x03", "application/x-msdownload"),
    ],
)
def test_content_types_are_sniffed_from_the_bytes(data, expected):
    assert casefile.sniff(data + b"\x00" * 300 if expected != "text/plain" else data) == expected


def _resolver(*addresses):
    def resolve(host, port, proto=None):
        return [(None, None, None, "", (address, port)) for address in addresses]

    return resolve


@pytest.mark.parametrize(
    "url,allowed,addresses,refused",
    [
        ("https://hooks.chat.example/x", "hooks.chat.example", ["203.0.113.9"], False),
        ("https://a.chat.example/x", ".chat.example", ["93.184.216.34"], False),
        ("https://evil.example/x", ".chat.example", ["93.184.216.34"], True),
        ("https://chat.example.evil.org/x", ".chat.example", ["93.184.216.34"], True),
        ("https://a.chat.example/x", ".chat.example", ["127.0.0.1"], True),  # rebinding to loopback
        ("https://a.chat.example/x", ".chat.example", ["10.1.2.3"], True),
        ("https://a.chat.example/x", ".chat.example", ["169.254.169.254"], True),
        ("https://a.chat.example/x", ".chat.example", ["fd00::1"], True),
        ("http://127.0.0.1:9/hook", "127.0.0.1", [], False),  # named exactly: a dev or test receiver
        ("http://127.0.0.1:9/hook", "", [], True),  # empty: nothing allowed
        ("http://127.0.0.1:9/hook", None, [], True),
    ],
)
def test_webhook_urls_go_only_to_allowed_public_hosts(url, allowed, addresses, refused):
    refusal = webhooks.url_refusal(url, webhooks.allowed_hosts(allowed), resolve=_resolver(*addresses))
    assert (refusal is not None) is refused


def test_webhook_deliveries_carry_ids_not_case_content():
    payload = {"case_id": "c1", "title": "Roe, John: informant debrief", "summary": "...", "status": "open"}
    assert webhooks.notice("case_updated", {**payload, "version": 3}) == {
        "case_id": "c1",
        "status": "open",
        "version": 3,
    }
    hit = {"notification_id": "n1", "case_id": "c1", "terms": "John Roe", "searcher": "olga", "at": "2026"}
    assert "terms" not in webhooks.notice("control_official_notified", hit)


@pytest.mark.parametrize("event_type", sorted(webhooks.NOTICE_FIELDS))
def test_a_chat_line_is_made_of_the_notice_alone(event_type):
    """Each chat line names only fields a notice carries (C10), so it can show no case content."""
    fields = {name for _, name, _, _ in string.Formatter().parse(webhooks.CHAT_LINES[event_type]) if name}
    assert fields <= set(webhooks.NOTICE_FIELDS[event_type])
    line = webhooks.chat_line(event_type, {name: f"<{name}>" for name in webhooks.NOTICE_FIELDS[event_type]})
    assert line.startswith("Casewire: ") and "\n" not in line


def test_a_standard_delivery_is_signed_over_its_id_timestamp_and_body():
    hook = {"secret": webhooks.new_secret()}
    delivery = {
        "_id": "d1",
        "event": "case_updated",
        "data": {"case_id": "c1"},
        "created_at": datetime(2026, 4, 2, tzinfo=UTC),
    }
    body = webhooks.body_of(hook, delivery)
    assert json.loads(body) == {
        "type": "case_updated",
        "timestamp": "2026-04-02T00:00:00+00:00",
        "data": {"case_id": "c1"},
    }
    headers = webhooks.signed(hook, delivery, body, datetime.now(UTC))
    assert Webhook(hook["secret"]).verify(body, headers)["data"] == {"case_id": "c1"}
    stale = webhooks.signed(hook, delivery, body, datetime.now(UTC) - timedelta(minutes=10))
    with pytest.raises(WebhookVerificationError):  # a replay of an old delivery
        Webhook(hook["secret"]).verify(body, stale)


def test_a_linked_alerts_timeline_sighting_names_no_entity_rather_than_a_null_one():
    linked = {"at": "2026-03-18T07:55:00+00:00", "record_type": "alert", "record_id": "a-1", "source": "alpr"}
    [entry] = casefile.timeline([], [], {}, [linked], [])
    assert entry == {"kind": "sighting", **linked}
