"""What the search service accepts over RPC: the general search's filters."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

TYPES = ("alert", "entity", "case")


class Near(Schema):
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))
    km = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False, max=20000))


class SearchFilters(Schema):
    """``{"types": ["alert"], "near": {"lat", "lon", "km"}, "since", "until", "source", "status", ...}``."""

    types = fields.List(fields.String(validate=validate.OneOf(TYPES)), validate=validate.Length(min=1))
    near = fields.Nested(Near, allow_none=True)
    since = fields.AwareDateTime(allow_none=True)
    until = fields.AwareDateTime(allow_none=True)
    source = fields.String(allow_none=True, validate=validate.Length(max=50))
    status = fields.String(allow_none=True, validate=validate.Length(max=50))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    cursor = fields.String(allow_none=True, validate=validate.Length(max=2000))

    @validates_schema
    def check_range(self, data, **kwargs):
        if data.get("since") and data.get("until") and data["since"] >= data["until"]:
            raise ValidationError("must be after since", "until")


def load_filters(raw: dict) -> dict:
    """Validated filters with datetimes back as ISO strings for Elasticsearch."""
    filters = SearchFilters().load(raw)
    for key in ("since", "until"):
        if filters.get(key):
            filters[key] = filters[key].isoformat()
    return filters
