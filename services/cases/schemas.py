"""The cases service's input and output schemas."""

from marshmallow import Schema, fields, validate

CLASSIFICATIONS = ("investigative", "criminal_intelligence")
STATUSES = ("open", "active", "suspended", "closed", "referred")


class CaseIn(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    summary = fields.String(load_default="", validate=validate.Length(max=20000))
    type = fields.String(load_default="general", validate=validate.Length(max=100))
    priority = fields.String(load_default="normal", validate=validate.OneOf(("low", "normal", "high", "critical")))
    unit = fields.String(required=True, validate=validate.Length(min=1, max=100))
    assignee = fields.String(validate=validate.Length(max=200))
    classification = fields.String(load_default="investigative", validate=validate.OneOf(("investigative",)))


class CaseOut(Schema):
    id = fields.String(attribute="_id")
    title = fields.String()
    summary = fields.String()
    type = fields.String()
    priority = fields.String()
    unit = fields.String()
    agency = fields.String(allow_none=True)
    assignees = fields.List(fields.String())
    classification = fields.String()
    record_class = fields.String()
    status = fields.String()
    opened_at = fields.AwareDateTime()
    opened_by = fields.String()
