"""Index definitions owned by the search service, versioned behind aliases.

Each index lives as ``<prefix>-<name>-v<version>`` (a rebuild adds ``-<stamp>``) behind the alias
``<prefix>-<name>``. A mapping change bumps ``version``: ``casewire search reindex`` builds the new
index from the owning services and swaps the alias atomically, so readers never see a missing index.
The version is also stored in the index's ``_meta`` so the service can tell an outdated index.

The alerts, cases and entities indices share the fields the general search filters on (``kind``,
``rid``, ``at``, ``location``, ``source``, ``status`` and the access fields), so one query spans them.
"""

# OCR confusions folded to one form: O/0, I/1, B/8, S/5, Z/2 (either case, before upper-casing).
OCR_FOLDING = [f"{letter} => {digit}" for letter, digit in zip("OIBSZoibsz", "0185201852", strict=True)]
# What people type inside plates that is not part of them.
PLATE_JUNK = ["- => ", "\\u0020 => ", ". => "]

SETTINGS = {
    "number_of_shards": 1,
    "number_of_replicas": 0,
    "analysis": {
        "char_filter": {
            "ocr_folding": {"type": "mapping", "mappings": OCR_FOLDING},
            "plate_junk": {"type": "mapping", "mappings": PLATE_JUNK},
        },
        "normalizer": {
            "plate": {"type": "custom", "char_filter": ["plate_junk"], "filter": ["uppercase"]},
            "plate_folded": {"type": "custom", "char_filter": ["plate_junk", "ocr_folding"], "filter": ["uppercase"]},
            "folded": {"type": "custom", "filter": ["lowercase", "asciifolding"]},
        },
        "analyzer": {
            "folded_text": {"type": "custom", "tokenizer": "standard", "filter": ["lowercase", "asciifolding"]},
        },
    },
}

_TEXT = {"type": "text", "analyzer": "folded_text"}
_KEYWORD = {"type": "keyword"}

# Fields every searchable record carries: what general search filters on, and who may see it.
COMMON = {
    "kind": _KEYWORD,  # alert, case, entity
    "rid": _KEYWORD,  # the record id (also the document id); a sort tie-breaker
    "version": {"type": "long"},
    "at": {"type": "date"},  # alerts: occurred_at; cases: updated_at
    "title": _TEXT,
    "text": _TEXT,
    "source": _KEYWORD,
    "status": _KEYWORD,
    "location": {"type": "geo_point"},
    "agency": _KEYWORD,
    "unit": _KEYWORD,
    "assignees": _KEYWORD,
    "record_class": _KEYWORD,
    "classification": _KEYWORD,
    "sensitivity": _KEYWORD,
    "review_state": _KEYWORD,
    "control_official": _KEYWORD,
}

INDICES = {
    "entities": {
        "version": 3,  # v3: ``ambiguous`` kept (unindexed) for the alert list's items
        "mappings": {
            "dynamic": False,
            "properties": {
                **COMMON,
                "type": _KEYWORD,
                "key": _KEYWORD,
                "display": {**_TEXT, "fields": {"raw": _KEYWORD}},
                "plate": {
                    "type": "keyword",
                    "normalizer": "plate",
                    "fields": {"folded": {"type": "keyword", "normalizer": "plate_folded"}},
                },
                "plate_state": _KEYWORD,
                "name": _TEXT,
                "phone": _KEYWORD,  # E.164
                "platform": _KEYWORD,
                "handle": {"type": "keyword", "normalizer": "folded"},
            },
        },
    },
    "sightings": {
        "version": 3,  # v3: agency (an agency finds only the entities its own records name)
        "mappings": {
            "dynamic": False,
            "properties": {
                "entity_id": _KEYWORD,
                "record_type": _KEYWORD,
                "record_id": _KEYWORD,
                "at": {"type": "date"},
                "location": {"type": "geo_point"},
                "source": _KEYWORD,
                "agency": _KEYWORD,
            },
        },
    },
    "alerts": {
        # v3: stored newest first, the alert list's order, so a page stops at its last item rather than
        # ranking every alert its filters match (at 185,000 alerts 70-100 ms → 2-3 ms in the index).
        # v4: ``item``, the list item as intake announced it, stored and not indexed.
        "version": 4,
        "settings": {"sort.field": ["received_at", "rid"], "sort.order": ["desc", "desc"]},
        "mappings": {
            "dynamic": False,
            "properties": {
                **COMMON,
                "source_system": _KEYWORD,
                "priority": _KEYWORD,
                "received_at": {"type": "date"},
                "notes": _TEXT,
                "item": {"type": "object", "enabled": False},
            },
        },
    },
    "cases": {
        "version": 2,  # v2: submitting_unit (who sees intelligence pending review, C3)
        "mappings": {
            "dynamic": False,
            "properties": {**COMMON, "opened_at": {"type": "date"}, "submitting_unit": _KEYWORD},
        },
    },
    # Ids of purged records (no content): a replayed event must not bring a purged record back (C16).
    "purged": {
        "version": 1,
        "mappings": {"dynamic": False, "properties": {"record_type": _KEYWORD}},
    },
}

SEARCHABLE = ("alerts", "cases", "entities")
KINDS = {"alert": "alerts", "case": "cases", "entity": "entities"}
