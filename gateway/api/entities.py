"""Entities: find, read, create, merge, unmerge, link and graph entities."""

from flask import current_app
from marshmallow import Schema, fields, validate

from casewire.contracts.entities import EntityOut, EntityPage, EntityRead, Graph, LinkOut, MergeAnswer
from casewire.contracts.entity_inputs import ENTITY_TYPES, EntityIn, LinkIn, MergeIn
from gateway.guards import context, guarded
from gateway.openapi import Blueprint
from gateway.related import entity_for, graph_for
from gateway.rpc import Rpc

blp = Blueprint(
    "entities",
    __name__,
    url_prefix="/api/v1/entities",
    description="People, vehicles, phones, handles, addresses: one entity however many records mention it.",
)


class EntityQuery(Schema):
    type = fields.String(validate=validate.OneOf(ENTITY_TYPES))
    q = fields.String(
        validate=validate.Length(min=1, max=200), metadata={"description": "text in the key, name or an alias"}
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    cursor = fields.String(metadata={"description": "the `next_cursor` of the previous page"})


class GraphQuery(Schema):
    depth = fields.Integer(load_default=1, validate=validate.Range(1, 3))


def _rpc() -> Rpc:
    return current_app.extensions["rpc"]


@blp.route("")
@blp.arguments(EntityQuery, location="query")
@blp.response(200, EntityPage)
@guarded("entity.list", record_type="entity")
def list_entities(query: dict) -> dict:
    """Entities your agency's records name, by type and text, e.g. `?type=vehicle&q=KGT4471`.

    Another agency's entities are skipped, so a page may hold fewer than `limit` items while
    `next_cursor` still leads on.
    """
    filters = {key: query.get(key) for key in ("type", "q")}
    return _rpc().call("entities", "list_entities", filters, query["limit"], query.get("cursor"), context())


@blp.route("", methods=["POST"])
@blp.arguments(EntityIn)
@blp.response(201, EntityOut, description="Created; an entity whose identity exists already answers 200 with it.")
@blp.alt_response(200, schema=EntityOut, success=True, description="The entity with this identity, made before.")
@guarded("entity.create", record_type="entity")
def create_entity(body: dict) -> tuple[dict, int]:
    """Create an entity by hand, e.g. `{"type": "phone", "number": "(713) 555-0100"}`."""
    fields_ = EntityIn().dump(body)
    result = _rpc().call("entities", "create_entity", fields_, context())
    return result["entity"], 201 if result["created"] else 200


@blp.route("/<entity_id>")
@blp.response(200, EntityRead)
@guarded("entity.read", record_type="entity", record_arg="entity_id")
def get_entity(entity_id: str) -> dict:
    """One entity with its sightings timeline, alerts, cases, stated links and merges.

    A merged-away id answers with the entity it was merged into. An entity no record of your agency
    names is 404. Alerts and cases the caller may not open (another agency's alerts; cases by the case
    rule, C3, C6), and other agencies' stated links and merges, are left out.
    """
    return entity_for(_rpc().call("entities", "get_entity", entity_id, context()), context())


@blp.route("/<entity_id>/merge", methods=["POST"])
@blp.arguments(MergeIn)
@blp.response(200, MergeAnswer)
@guarded("entity.merge", record_type="entity", record_arg="entity_id")
def merge(body: dict, entity_id: str) -> dict:
    """Merge `other_id` into this entity: both identifiers stay as aliases, sightings move; audited."""
    return _rpc().call("entities", "merge_entities", entity_id, body["other_id"], context())


@blp.route("/<entity_id>/unmerge", methods=["POST"])
@blp.arguments(MergeIn)
@blp.response(200, MergeAnswer)
@guarded("entity.unmerge", record_type="entity", record_arg="entity_id")
def unmerge(body: dict, entity_id: str) -> dict:
    """Undo the merge of `other_id` into this entity: both come back with their own sightings; audited."""
    return _rpc().call("entities", "unmerge_entities", entity_id, body["other_id"], context())


@blp.route("/<entity_id>/links", methods=["POST"])
@blp.arguments(LinkIn)
@blp.response(201, LinkOut, description="Created; the same link stated again answers 200 with the first.")
@blp.alt_response(200, schema=LinkOut, success=True, description="The same link, stated before.")
@guarded("entity.link", record_type="entity", record_arg="entity_id")
def add_link(body: dict, entity_id: str) -> tuple[dict, int]:
    """State a link, e.g. `{"other_id": "...", "relation": "owner_of", "source": "DMV registration"}`."""
    result = _rpc().call("entities", "add_link", entity_id, body, context())
    return result["link"], 201 if result["created"] else 200


@blp.route("/<entity_id>/graph")
@blp.arguments(GraphQuery, location="query")
@blp.response(200, Graph)
@guarded("entity.read", record_type="entity", record_arg="entity_id")
def graph(query: dict, entity_id: str) -> dict:
    """Nodes and edges around an entity (`depth` 1-3), each edge with its evidence; bounded in size.

    Alerts and cases the caller may not open are left out, with their edges and the entities
    reachable only through them.
    """
    return graph_for(_rpc().call("entities", "graph", entity_id, query["depth"], context()), context())
