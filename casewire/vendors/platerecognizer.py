"""Plate Recognizer Stream's webhook: the vehicles one camera's frame showed, sent as JSON.

``hook.event`` ``recognition`` holds the reads, one per item of ``data.results``, each stored as its
own ALPR read; other events are answered and not stored. Stream sends no position, so each camera's
comes from the agency's ``VENDOR_CAMERAS`` table, by ``data.camera_id``. Stream's webhook must send
JSON only: its ``webhook_image`` option posts multipart form data instead.
"""

from marshmallow import fields, validate

from casewire.extras import Open, merge
from casewire.vendors.common import (
    ID,
    PLATE,
    REGION,
    NothingToStore,
    Vendor,
    VendorSettings,
    best,
    compact,
    percent,
    region_state,
)

FORMAT = "platerecognizer"
READS = "recognition"
_ranked = validate.Length(max=50)


class StreamHook(Open):
    event = fields.String(required=True, validate=ID)
    id = fields.String(validate=ID, allow_none=True)
    target = fields.String(validate=validate.Length(max=2000), allow_none=True)
    filename = fields.String(validate=validate.Length(max=500), allow_none=True)


class StreamRegion(Open):
    code = fields.String(validate=REGION, allow_none=True)  # "us-ca"; empty when Stream could not tell
    score = fields.Float(validate=validate.Range(0, 1), allow_none=True)


class StreamMakeModel(Open):
    make = fields.String(validate=ID, allow_none=True)
    model = fields.String(validate=ID, allow_none=True)
    score = fields.Float(validate=validate.Range(0, 1), allow_none=True)


class StreamColor(Open):
    color = fields.String(required=True, validate=ID)
    score = fields.Float(validate=validate.Range(0, 1), allow_none=True)


class StreamResult(Open):
    plate = fields.String(required=True, validate=PLATE)
    score = fields.Float(validate=validate.Range(0, 1), allow_none=True)
    region = fields.Nested(StreamRegion, allow_none=True)
    model_make = fields.List(fields.Nested(StreamMakeModel), validate=_ranked, allow_none=True)
    color = fields.List(fields.Nested(StreamColor), validate=_ranked, allow_none=True)


class StreamRecognition(Open):
    camera_id = fields.String(required=True, validate=ID)
    timestamp = fields.AwareDateTime(required=True)
    results = fields.List(fields.Nested(StreamResult), required=True, validate=validate.Length(min=1, max=50))


class StreamWebhook(Vendor):
    """A Plate Recognizer Stream webhook: ``hook`` says which event, ``data`` holds the frame's reads."""

    hook = fields.Nested(StreamHook, required=True)
    data = fields.Nested(StreamRecognition, required=True)


def _read(body: dict, index: int, raw: dict, camera: dict) -> dict:
    data = body["data"]
    result = data["results"][index]
    plate = result["plate"].upper()
    make_model = (result.get("model_make") or [{}])[0]
    extra = {key: value for key, value in body["extra"].items() if key != "data"}
    data_extra = {key: value for key, value in body["extra"].get("data", {}).items() if key != "results"}
    source_payload = compact(
        {
            "format": FORMAT,
            "camera_label": camera.get("label"),
            "hook": body["hook"],
            "data": data_extra,
            "result": raw,  # this read as Stream sent it: candidates, boxes, vehicle type, direction
        }
    )
    return {
        "source": "alpr",
        "source_system": "platerecognizer-stream",
        # Stream names no read id: one camera's frame shows a plate once.
        "source_event_id": f"{data['camera_id']}-{data['timestamp'].isoformat()}-{plate}",
        "occurred_at": data["timestamp"].isoformat(),
        "location": {"lat": camera["lat"], "lon": camera["lon"]},
        "priority": "normal",
        "payload": compact(
            {
                "plate": plate,
                "plate_state": region_state((result.get("region") or {}).get("code")),
                "camera_id": data["camera_id"],
                "confidence": percent(result.get("score")),
                "vehicle": compact(
                    {
                        "make": make_model.get("make"),
                        "model": make_model.get("model"),
                        "color": best(result.get("color"), "color"),
                    }
                ),
            }
        ),
        "source_payload": merge(source_payload, extra),
    }


def to_alerts(body: dict, settings: VendorSettings) -> list[dict]:
    hook = body.get("hook")
    event = hook.get("event") if isinstance(hook, dict) else None
    if isinstance(event, str) and event != READS:
        raise NothingToStore(f"{event}: only {READS} events hold plate reads")
    loaded = StreamWebhook().load(body)
    camera = settings.camera(FORMAT, loaded["data"]["camera_id"], "data.camera_id")
    return [_read(loaded, index, raw, camera) for index, raw in enumerate(body["data"]["results"])]
