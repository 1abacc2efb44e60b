"""Search (API.md, Search): plates, exact, partial and OCR-folded."""

from flask import current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from gateway.access import guarded

blp = Blueprint("search", __name__, url_prefix="/api/v1/search", description="Find plates, entities, alerts and cases.")


class PlateQuery(Schema):
    plate = fields.String(
        required=True,
        validate=validate.Length(min=1, max=16),
        metadata={"description": "`?` stands for one character, `*` for any run"},
    )
    state = fields.String(validate=validate.Length(min=2, max=3))
    fuzzy = fields.Boolean(load_default=True)
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))


@blp.route("/plates")
@blp.arguments(PlateQuery, location="query")
@blp.response(200)
@guarded("search.plates", record_type="vehicle")
def search_plates(query):
    """Vehicles whose plates match, exact above OCR-folded above fuzzy, with their sightings."""
    return current_app.extensions["rpc"].call(
        "search", "search_plates", query["plate"], query.get("state"), query["fuzzy"], query["limit"]
    )
