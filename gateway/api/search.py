"""Search: plates (exact, partial, OCR-folded, fuzzy) and the general search.

Every search is audited with its terms by :func:`~gateway.guards.guarded` (the query string is in
the event's details), and a search that shows cases by a second event, ``search.hits``, naming them.
A plate search is an ALPR query: it needs a stated purpose (C25), given as ``?purpose=`` or the
``X-Purpose`` header; without one it is refused (400) and the refusal audited. Criminal intelligence
is searched only with a purpose and a case or incident number (C9: ``X-Case-Number`` or
``?case_number=``); without them the general search leaves it out.
"""

from flask import current_app, request
from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from casewire.contracts.search import PlateResults, SearchResults
from gateway.audit_trail import record_disclosed
from gateway.guards import context, guarded
from gateway.openapi import Blueprint

blp = Blueprint("search", __name__, url_prefix="/api/v1/search", description="Find plates, entities, alerts and cases.")

_PURPOSE = {"description": "why you search (or the `X-Purpose` header); required for plates (C25)"}
_CASE_NUMBER = {"description": "the case or incident number (or `X-Case-Number`); needed for intelligence (C9)"}


class PlateQuery(Schema):
    plate = fields.String(
        required=True,
        validate=validate.Length(min=1, max=16),
        metadata={"description": "`?` stands for one character, `*` for any run, e.g. `AB?12*`"},
    )
    state = fields.String(validate=validate.Length(min=2, max=3))
    fuzzy = fields.Boolean(load_default=True)
    since = fields.AwareDateTime(
        metadata={
            "description": "only vehicles seen at or after this time, with those sightings (ISO 8601 with offset)",
            "example": "2026-03-01T00:00:00Z",
        }
    )
    until = fields.AwareDateTime(
        metadata={
            "description": "only vehicles seen before this time (after `since`)",
            "example": "2026-04-01T00:00:00Z",
        }
    )
    near = fields.String(
        metadata={
            "description": "`lat,lon,km`: only vehicles seen within km of the point (with `since`/`until`: "
            "seen there in that time)",
            "example": "29.75,-95.36,2",
        }
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    purpose = fields.String(validate=validate.Length(max=500), metadata=_PURPOSE)
    case_number = fields.String(validate=validate.Length(max=100), metadata=_CASE_NUMBER)

    @validates("near")
    def check_near(self, value: str, **kwargs) -> None:
        _near(value)

    @validates_schema
    def check_range(self, data: dict, **kwargs) -> None:
        if data.get("since") and data.get("until") and data["since"] >= data["until"]:
            raise ValidationError("must be after since", "until")


class SearchQuery(Schema):
    q = fields.String(load_default="", validate=validate.Length(max=500), metadata={"description": "words"})
    types = fields.String(metadata={"description": "comma-separated: alert, entity, case"})
    near = fields.String(metadata={"description": "`lat,lon,km`: within km of the point"})
    since = fields.AwareDateTime()
    until = fields.AwareDateTime()
    source = fields.String(validate=validate.Length(max=50))
    status = fields.String(validate=validate.Length(max=50))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    cursor = fields.String(metadata={"description": "the `next_cursor` of the previous page"})
    purpose = fields.String(validate=validate.Length(max=500), metadata=_PURPOSE)
    case_number = fields.String(validate=validate.Length(max=100), metadata=_CASE_NUMBER)

    @validates("types")
    def check_types(self, value: str, **kwargs) -> None:
        unknown = sorted({t.strip() for t in value.split(",")} - {"alert", "entity", "case"})
        if unknown:
            raise ValidationError(f"unknown types {unknown}; use alert, entity, case")

    @validates("near")
    def check_near(self, value: str, **kwargs) -> None:
        _near(value)


def _near(value: str) -> dict:
    try:
        lat, lon, km = (float(part) for part in value.split(","))
    except ValueError as exc:
        raise ValidationError("use lat,lon,km, e.g. 29.75,-95.36,2") from exc
    if not (-90 <= lat <= 90 and -180 <= lon <= 180 and 0 < km <= 20000):
        raise ValidationError("lat in -90..90, lon in -180..180, km above 0")
    return {"lat": lat, "lon": lon, "km": km}


def _purpose() -> tuple[str | None, str | None]:
    purpose = request.headers.get("X-Purpose") or request.args.get("purpose")
    case_number = request.headers.get("X-Case-Number") or request.args.get("case_number")
    return purpose, case_number


def _search_context() -> dict:
    purpose, case_number = _purpose()
    return {**context(), "purpose": purpose, "case_number": case_number}


@blp.route("/plates")
@blp.arguments(PlateQuery, location="query")
@blp.response(200, PlateResults)
@guarded("search.plates", record_type="vehicle", purpose_required="purpose")
def search_plates(query: dict) -> dict:
    """Vehicles whose plates match, exact above OCR-folded above fuzzy, with their sightings.

    `since`, `until` and `near` keep the vehicles your agency saw in that time and place, and show those
    sightings only, e.g. `?plate=KGT44?1&since=2026-03-01T00:00:00Z&until=2026-04-01T00:00:00Z&near=29.75,-95.36,2`.
    """
    return current_app.extensions["rpc"].call(
        "search",
        "search_plates",
        query["plate"],
        query.get("state"),
        query["fuzzy"],
        query["limit"],
        _search_context(),
        filters=_time_and_place(query),
    )


def _time_and_place(query: dict) -> dict:
    """The plate search's and the general search's filters as the search service takes them."""
    filters = {key: query[key].isoformat() for key in ("since", "until") if query.get(key)}
    if query.get("near"):
        filters["near"] = _near(query["near"])
    return filters


@blp.route("")
@blp.arguments(SearchQuery, location="query")
@blp.response(200, SearchResults)
@guarded("search.query", record_type="search", purpose_required="intelligence")
def search(query: dict) -> dict:
    """Alerts, cases and entities matching words, filtered by kind, source, status, time and place."""
    filters = {key: query[key] for key in ("source", "status", "limit", "cursor") if query.get(key) is not None}
    filters.update(_time_and_place(query))
    if query.get("types"):
        filters["types"] = sorted({t.strip() for t in query["types"].split(",")})
    found = current_app.extensions["rpc"].call("search", "search", query["q"], filters, _search_context())
    cases = sorted({hit["id"] for hit in found.get("items") or [] if hit.get("type") == "case" and hit.get("id")})
    if cases:  # which cases the answer shows, for the compliance report's reads without a purpose (C27)
        record_disclosed("search.hits", "case", cases)
    return found
