"""What the search service accepts over RPC: the general search's filters and the plate search's."""

from collections.abc import Mapping
from datetime import UTC, datetime

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

TYPES = ("alert", "entity", "case")


class Near(Schema):
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))
    km = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False, max=20000))


class UtcDateTime(fields.AwareDateTime):
    """A time with its offset, turned to UTC: Elasticsearch refuses offsets beyond ±18:00, which ISO 8601
    text may still carry."""

    def _deserialize(self, value: object, attr: str | None, data: Mapping | None, **kwargs) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(UTC)
        except OverflowError as exc:
            raise ValidationError("a time within years 1 to 9999 in UTC") from exc


class TimeAndPlace(Schema):
    """``{"since", "until", "near": {"lat", "lon", "km"}}``: a time range ``[since, until)`` and a distance."""

    near = fields.Nested(Near, allow_none=True)
    since = UtcDateTime(allow_none=True)
    until = UtcDateTime(allow_none=True)

    @validates_schema
    def check_range(self, data: dict, **kwargs) -> None:
        if data.get("since") and data.get("until") and data["since"] >= data["until"]:
            raise ValidationError("must be after since", "until")


class SearchFilters(TimeAndPlace):
    """``{"types": ["alert"], "near": {"lat", "lon", "km"}, "since", "until", "source", "status", ...}``."""

    types = fields.List(fields.String(validate=validate.OneOf(TYPES)), validate=validate.Length(min=1))
    source = fields.String(allow_none=True, validate=validate.Length(max=50))
    status = fields.String(allow_none=True, validate=validate.Length(max=50))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    cursor = fields.String(allow_none=True, validate=validate.Length(max=2000))


def load_filters(raw: dict, schema: type[Schema] = SearchFilters) -> dict:
    """Validated filters with datetimes back as ISO strings for Elasticsearch."""
    filters = schema().load(raw)
    for key in ("since", "until"):
        if filters.get(key):
            filters[key] = filters[key].isoformat()
    return filters
