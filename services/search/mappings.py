"""Index definitions owned by the search service, versioned behind aliases.

A mapping change bumps ``version``: the service creates the new index, reindexes, and swaps the
alias, so readers never see a missing index.
"""

# OCR confusions folded to one form: O/0, I/1, B/8, S/5, Z/2 (either case, before upper-casing).
OCR_FOLDING = [f"{letter} => {digit}" for letter, digit in zip("OIBSZoibsz", "0182501825", strict=False)]
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
        },
    },
}

INDICES = {
    "entities": {
        "version": 1,
        "mappings": {
            "dynamic": False,
            "properties": {
                "type": {"type": "keyword"},
                "key": {"type": "keyword"},
                "display": {"type": "text", "fields": {"raw": {"type": "keyword"}}},
                "plate": {
                    "type": "keyword",
                    "normalizer": "plate",
                    "fields": {"folded": {"type": "keyword", "normalizer": "plate_folded"}},
                },
                "plate_state": {"type": "keyword"},
                "name": {"type": "text"},
                "updated_at": {"type": "date"},
            },
        },
    },
    "sightings": {
        "version": 1,
        "mappings": {
            "dynamic": False,
            "properties": {
                "entity_id": {"type": "keyword"},
                "record_type": {"type": "keyword"},
                "record_id": {"type": "keyword"},
                "at": {"type": "date"},
                "location": {"type": "geo_point"},
                "source": {"type": "keyword"},
            },
        },
    },
    "alerts": {
        "version": 1,
        "mappings": {
            "dynamic": False,
            "properties": {
                "source": {"type": "keyword"},
                "source_system": {"type": "keyword"},
                "status": {"type": "keyword"},
                "priority": {"type": "keyword"},
                "occurred_at": {"type": "date"},
                "received_at": {"type": "date"},
                "location": {"type": "geo_point"},
                "text": {"type": "text"},
            },
        },
    },
}
