"""Outcome metrics as the gateway answers them."""

from marshmallow import Schema, fields


class Timing(Schema):
    count = fields.Integer()
    p50 = fields.Float(allow_none=True)
    p90 = fields.Float(allow_none=True)


class SourceFigures(Schema):
    """One source's figures (or the `total` row); each view names some of them."""

    source = fields.String(required=True)
    alerts = fields.Integer(allow_none=True)
    assigned = fields.Integer(allow_none=True)
    dismissed = fields.Integer(allow_none=True)
    dismissed_by_reason = fields.Dict(keys=fields.String(), values=fields.Integer(), allow_none=True)
    promoted = fields.Integer(allow_none=True)
    cases = fields.Integer(allow_none=True)
    cases_by_outcome = fields.Dict(keys=fields.String(), values=fields.Integer(), allow_none=True)
    open = fields.Integer(allow_none=True)
    escalated = fields.Integer(allow_none=True)
    overdue_now = fields.Integer(allow_none=True)
    connected_to_earlier_records = fields.Integer(allow_none=True)
    connected_to_earlier_cases = fields.Integer(allow_none=True)
    time_to_assignment = fields.Nested(Timing, allow_none=True, metadata={"description": "seconds"})
    time_to_first_action = fields.Nested(Timing, allow_none=True, metadata={"description": "seconds"})


class Figures(Schema):
    """The caller's agency's figures for whole UTC hours `[since, until)`: per source and in total."""

    agency = fields.String(required=True, allow_none=True)
    since = fields.String(required=True, metadata={"format": "date-time"})
    until = fields.String(required=True, metadata={"format": "date-time"})
    sources = fields.List(fields.Nested(SourceFigures), required=True)
    total = fields.Nested(SourceFigures, required=True)
