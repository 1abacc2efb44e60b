"""General search: one query over alerts, cases and entities, filtered, ranked and highlighted.

Text goes to titles, narratives, notes and payload text; person names match with fuzziness;
phones are parsed with ``phonenumbers`` (any format, a default region) and matched in E.164;
handles match without their ``@`` and in any case. Filters: kind, source, status, a time range
(``at``) and a distance from a point (``location``). Entities have neither time nor place of their
own: they match those filters through their sightings (``entity_ids`` from :func:`sightings_filter`).
"""

import base64
import json
import re

import phonenumbers

from casewire.alerts import FACE_NOTICE
from services.search import access_filters

TEXT_FIELDS = ["title^2", "text", "notes"]
HIGHLIGHT = {
    "fields": {"title": {}, "text": {}, "notes": {}, "name": {}},
    "pre_tags": ["<em>"],
    "post_tags": ["</em>"],
    "fragment_size": 150,
    "number_of_fragments": 3,
}
# ``unmapped_type``: an index still on an older mapping (before ``reindex``) must not fail the search.
SORT = [
    {"_score": "desc"},
    {"kind": {"order": "asc", "unmapped_type": "keyword"}},
    {"rid": {"order": "asc", "unmapped_type": "keyword"}},
]


def phones_in(text: str, region: str) -> list[str]:
    """Every phone number written in ``text``, in E.164, whatever its format."""
    numbers = []
    for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE):
        numbers.append(phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164))
    if not numbers and re.fullmatch(r"[\d\s()+.\-]{7,}", text.strip()):
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            return []
        if phonenumbers.is_possible_number(number):
            numbers.append(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return numbers


def text_query(q: str, region: str) -> dict:
    """What ``q`` matches: words anywhere, fuzzy names, phones in any format, handles, plates."""
    q = (q or "").strip()
    if not q:
        return {"match_all": {}}
    handle = q.lstrip("@").lower()
    should = [
        {"multi_match": {"query": q, "fields": TEXT_FIELDS, "operator": "and"}},
        {"match": {"name": {"query": q, "fuzziness": "AUTO", "operator": "and", "boost": 3}}},
        {"term": {"handle": {"value": handle, "boost": 10}}},
        {"term": {"plate": {"value": q, "boost": 10}}},
    ]
    should += [{"term": {"phone": {"value": number, "boost": 10}}} for number in phones_in(q, region)]
    return {"bool": {"should": should, "minimum_should_match": 1}}


def time_range(since: str | None, until: str | None) -> dict | None:
    if not since and not until:
        return None
    bounds = {key: value for key, value in (("gte", since), ("lt", until)) if value}
    return {"range": {"at": bounds}}


def geo(near: dict | None) -> dict | None:
    if not near:
        return None
    return {"geo_distance": {"distance": f"{near['km']}km", "location": {"lat": near["lat"], "lon": near["lon"]}}}


def sightings_filter(filters: dict) -> dict | None:
    """The sightings query that places entities in time and space, or None when none is asked."""
    clauses = [c for c in (time_range(filters.get("since"), filters.get("until")), geo(filters.get("near"))) if c]
    return {"bool": {"filter": clauses}} if clauses else None


def kind_filters(caller: dict | None, filters: dict, entity_ids: list[str] | None) -> list[dict]:
    """One clause per wanted kind: the caller's access plus the filters that kind can meet."""
    common = [c for c in (time_range(filters.get("since"), filters.get("until")),) if c]
    for field in ("source", "status"):
        if filters.get(field):
            common.append({"term": {field: filters[field]}})
    near = geo(filters.get("near"))
    types = filters.get("types") or ["alert", "case", "entity"]
    clauses = []
    if "alert" in types:
        clauses.append({"bool": {"filter": [access_filters.alert_filter(caller), *common, *([near] if near else [])]}})
    if "case" in types and not near:  # cases have no place of their own
        clauses.append({"bool": {"filter": [access_filters.case_filter(caller), *common]}})
    if "entity" in types and not (filters.get("source") or filters.get("status")):
        entity = [access_filters.entity_filter(caller)]
        if entity_ids is not None:
            entity.append({"ids": {"values": entity_ids}})
        clauses.append({"bool": {"filter": entity}})
    return clauses


def general_query(q: str, caller: dict | None, filters: dict, entity_ids: list[str] | None, region: str) -> dict:
    clauses = kind_filters(caller, filters, entity_ids) or [{"match_none": {}}]
    return {
        "bool": {
            "must": [text_query(q, region)],
            "filter": [{"bool": {"should": clauses, "minimum_should_match": 1}}],
        }
    }


def hidden_query(q: str, hidden: dict, region: str) -> dict:
    """Hits the caller must not see (C6), found with the same words."""
    return {"bool": {"must": [text_query(q, region)], "filter": [hidden]}}


def encode_cursor(sort_values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(sort_values).encode()).decode()


def decode_cursor(cursor: str) -> list:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as exc:
        raise ValueError("not a cursor from this search") from exc
    if not isinstance(values, list) or len(values) != len(SORT):
        raise ValueError("not a cursor from this search")
    return values


def summary(hit: dict) -> dict:
    """The few fields a result list shows for a hit."""
    source = hit["_source"]
    keys = {
        "alert": ("title", "source", "status", "at", "priority", "location"),
        "case": ("title", "status", "classification", "unit", "at"),
        "entity": ("type", "key", "display"),
    }[source["kind"]]
    found = {key: source.get(key) for key in keys if source.get(key) is not None}
    if source.get("classification") == "identifying":  # C8, wherever shown
        found["notice"] = "Identifying information only, no criminal connotation"
    if source["kind"] == "alert" and source.get("source") == "face":  # C26: its highlights may name a candidate
        found["notice"] = FACE_NOTICE
    return found
