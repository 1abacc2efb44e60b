"""``casewire import``: reading JSON lines and CSV, counting results, keeping failures."""

from casewire.importer import csv_row_to_alert, read_records, run_import


def test_csv_columns_map_to_the_alert_shape():
    row = {
        "source": "gunshot",
        "source_system": "ss",
        "source_event_id": "e1",
        "occurred_at": "2026-01-05T22:14:00Z",
        "lat": "29.7",
        "lon": "-95.3",
        "address": "",
        "payload.rounds": "4",
        "payload.sensor_ids": '["s1", "s2"]',
        "payload.vehicle.make": "Nissan",
    }
    assert csv_row_to_alert(row) == {
        "source": "gunshot",
        "source_system": "ss",
        "source_event_id": "e1",
        "occurred_at": "2026-01-05T22:14:00Z",
        "location": {"lat": "29.7", "lon": "-95.3"},
        "payload": {"rounds": "4", "sensor_ids": ["s1", "s2"], "vehicle": {"make": "Nissan"}},
    }


def test_json_lines_keep_their_line_numbers_and_unreadable_lines_fail(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"a": 1}\n\n{broken\n{"b": 2}\n')
    assert [(line, alert, error is not None) for line, alert, error in read_records(path)] == [
        (1, {"a": 1}, False),
        (3, None, True),
        (4, {"b": 2}, False),
    ]


def test_results_are_counted_per_chunk_and_failures_kept():
    records = [(n, {"n": n}, None) for n in range(1, 6)] + [(6, None, "not JSON")]
    statuses = {1: 201, 2: 200, 3: 422, 4: 201, 5: 200}
    posted = []

    def post(alerts):
        posted.append(len(alerts))
        return [{"status": statuses[a["n"]], "near_duplicate": a["n"] == 5, "errors": {"x": ["bad"]}} for a in alerts]

    report = run_import(records, post, 2)
    assert posted == [2, 2, 1]
    assert report["counts"] == {"created": 2, "known": 1, "near_duplicate": 1, "failed": 2}
    assert [f["line"] for f in report["failures"]] == [3, 6]
