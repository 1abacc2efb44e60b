"""When an unmerge event's list of the survivor's sightings proves the survivor no longer has one."""

import pytest

from casewire import events
from services.search.merges import _covered

EVENT_AT = "2026-01-15T12:00:00+00:00"


def listed(*hours):
    return [{"at": f"2026-01-15T{hour:02d}:00:00+00:00"} for hour in hours]


@pytest.mark.parametrize(
    "at,covered",
    [
        ("2026-01-15T01:00:00+00:00", True),
        ("2026-01-15T07:00:00Z", True),  # between listed times, any spelling of UTC
        ("2026-01-15T12:00:00+00:00", True),  # at the event
        ("2026-01-15T12:00:01+00:00", False),  # after the event: sighted since, not in its picture
    ],
)
def test_a_whole_list_covers_every_time_up_to_the_event(at, covered):
    assert _covered(listed(2, 5, 9), EVENT_AT)(at) is covered


@pytest.mark.parametrize(
    "at,covered",
    [("2026-01-15T01:00:00+00:00", True), ("2026-01-15T09:00:00+00:00", False), ("2026-01-15T10:00:00+00:00", False)],
)
def test_a_list_cut_at_merge_sightings_covers_only_the_times_before_its_newest(monkeypatch, at, covered):
    """The event carries the oldest ``MERGE_SIGHTINGS``: at the newest listed time others may be cut off."""
    monkeypatch.setattr(events, "MERGE_SIGHTINGS", 3)
    assert _covered(listed(2, 5, 9), EVENT_AT)(at) is covered
