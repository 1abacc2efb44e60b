"""Vendor fields a schema does not know, at any depth: accepted, then set aside under their path.

Detection systems add fields to every object they send (a vehicle's ``body_style``, a location's
``heading``, a camera's ``model``). Refusing them would refuse the hit; dropping them would throw
vendor detail away (issue #4). Schemas that take vendor data derive from :class:`Open`, so unknown
fields load, and the outermost schema calls :func:`pop_unknown` to move them out of the clean,
declared fields and keep them, e.g. in the alert's ``source_payload``.
"""

from marshmallow import INCLUDE, Schema, fields


class Open(Schema):
    """A schema that accepts fields it does not declare (for :func:`pop_unknown` to collect)."""

    class Meta:
        unknown = INCLUDE


def _nested_schema(field: fields.Field) -> Schema | None:
    if isinstance(field, fields.Nested):
        return field.schema
    if isinstance(field, fields.List) and isinstance(field.inner, fields.Nested):
        return field.inner.schema
    return None


def pop_unknown(schema: Schema, data: dict) -> dict:
    """Remove from loaded ``data`` every key ``schema`` (or one of its nested schemas) does not declare.

    Returns the removed values at their path: ``{"vehicle": {"body_style": "sedan"}}``; items of a
    list of objects are keyed by their position as text (``{"subjects": {"0": {...}}}``), because a
    MongoDB-protocol store refuses arrays inside arrays.
    """
    unknown: dict = {}
    for key in list(data):
        field = schema.fields.get(key)
        if field is None:
            unknown[key] = data.pop(key)
            continue
        nested, value = _nested_schema(field), data[key]
        if nested is None:
            continue
        if isinstance(value, list):
            extras = {
                str(index): found
                for index, item in enumerate(value)
                if isinstance(item, dict) and (found := pop_unknown(nested, item))
            }
        else:
            extras = pop_unknown(nested, value) if isinstance(value, dict) else {}
        if extras:
            unknown[key] = extras
    return unknown


def merge(target: dict, extras: dict) -> dict:
    """Add ``extras`` into ``target`` in place, object into object, so neither side loses a field."""
    for key, value in extras.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = value
    return target
