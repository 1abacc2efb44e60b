"""What the entities service takes and returns over RPC and in events."""

from marshmallow import Schema, ValidationError, fields, validate

from casewire.contracts.entities import EntityOut, LinkOut, MergeOut, SightingOut  # noqa: F401

# Its answers are the API's contract, shared with the gateway that documents them.
from casewire.errors import InvalidInput

_short = validate.Length(min=1, max=200)


class CaseLinkIn(Schema):
    case_id = fields.String(required=True, validate=_short)
    entity_id = fields.String(required=True, validate=_short)
    role = fields.String(load_default="other", validate=validate.Length(min=1, max=100))
    at = fields.AwareDateTime(required=True, default_timezone=None)
    context = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


def ref_of(entity: dict) -> dict:
    """The short form of an entity that events and alerts carry."""
    return {
        "id": entity["_id"],
        "type": entity["type"],
        "key": entity["key"],
        "display": entity["display"],
        "ambiguous": entity.get("ambiguous", False),
    }


def indexed_ref(entity: dict) -> dict:
    """The entity as search indexes it (``casewire.events.IndexedEntity``): its short form, aliases,
    name and revision (0 for an entity stored before revisions were kept)."""
    return {
        **ref_of(entity),
        "aliases": entity.get("aliases") or [],
        "name": entity.get("name"),
        "revision": entity.get("revision", 0),
    }


def load(schema: Schema, data: dict, what: str) -> dict:
    """``data`` loaded by ``schema``, or InvalidInput naming each bad field of the ``what``."""
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise InvalidInput(f"the {what} is invalid", exc.messages) from exc
