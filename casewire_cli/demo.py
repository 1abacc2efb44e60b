"""The demo data set: the seed's story, told through the gateway like any detection system would.

A plate seen near a homicide in January and near a break-in in March; a social media profile flagged
in February and later named, with that plate, in a tip. Posting it twice stores nothing new (the
event ids are fixed), so ``scripts/run.sh`` can load it every time.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import requests

DEMO_ALERTS = [
    {
        "source": "alpr",
        "source_system": "flock-houston",
        "source_event_id": "demo-read-0114",
        "occurred_at": "2026-01-14T23:41:00-06:00",
        "priority": "high",
        "location": {"lat": 29.7499, "lon": -95.3584, "address": "2400 block of Rusk St"},
        "payload": {
            "plate": "KGT-4471",
            "plate_state": "TX",
            "camera_id": "flock-cam-112",
            "confidence": 97.5,
            "vehicle": {"make": "Nissan", "model": "Altima", "color": "grey"},
        },
        "notes": "Read 600 m from the homicide scene, 14 minutes after the shots.",
    },
    {
        "source": "social",
        "source_system": "sm-monitor",
        "source_event_id": "demo-post-0209",
        "occurred_at": "2026-02-09T18:05:00-06:00",
        "payload": {
            "platform": "instagram",
            "handle": "@eastend_grey_ghost",
            "threat_category": "violence",
            "text": "next one won't miss",
            "post_url": "https://example.invalid/p/abc",
        },
    },
    {
        "source": "gunshot",
        "source_system": "shotspotter",
        "source_event_id": "demo-shot-0302",
        "occurred_at": "2026-03-02T01:12:00-06:00",
        "location": {"lat": 29.7512, "lon": -95.3551},
        "payload": {"rounds": 4, "incident_type": "multiple_gunshots"},
    },
    {
        "source": "alpr",
        "source_system": "flock-houston",
        "source_event_id": "demo-read-0318",
        "occurred_at": "2026-03-18T03:02:00-05:00",
        "location": {"lat": 29.7391, "lon": -95.3402, "address": "Navigation Blvd at N Hutcheson St"},
        "payload": {"plate": "kgt 4471", "plate_state": "TX", "camera_id": "flock-cam-207"},
        "notes": "Read outside the pharmacy break-in, 3 minutes before the alarm.",
    },
    {
        "source": "tip",
        "source_system": "crime-stoppers",
        "source_event_id": "demo-tip-0402",
        "occurred_at": "2026-04-02T10:30:00-05:00",
        "payload": {
            "narrative": "The guy posting as eastend_grey_ghost drives a grey Altima, plate KGT4471.",
            "subjects": [
                {"type": "social_account", "platform": "instagram", "handle": "eastend_grey_ghost"},
                {"type": "vehicle", "plate": "KGT4471", "plate_state": "TX"},
            ],
        },
    },
]


def load(post: Callable[[dict], "requests.Response"]) -> list[tuple[int, str]]:
    """Submit every demo alert with ``post(body) -> response``; returns (status, id) pairs."""
    results = []
    for body in DEMO_ALERTS:
        response = post(body)
        response.raise_for_status()
        results.append((response.status_code, response.json()["id"]))
    return results
