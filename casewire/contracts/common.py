"""What every list answer shares: a page of items and the cursor to the next one."""

from marshmallow import Schema, fields

PAGE = (
    "One page of a list: `items` in the list's order and `next_cursor`, the opaque position after the "
    "last item. Ask again with `?cursor=<next_cursor>` (and the same filters) for the next page; `null` "
    "means there is none. `limit` (1-500, 50 by default) bounds a page where the list takes it. Every "
    "list of the API pages this way."
)


class Page(Schema):
    class Meta:
        description = PAGE

    next_cursor = fields.String(required=True, allow_none=True, metadata={"description": "null on the last page"})


def page_of(item: type[Schema], name: str) -> type[Schema]:
    """A :class:`Page` of ``item`` schemas, named ``name`` in the OpenAPI document."""
    meta = type("Meta", (), {"description": f"A page of {item.__name__} (pagination: the `Page` schema)."})
    return type(name, (Page,), {"items": fields.List(fields.Nested(item), required=True), "Meta": meta})
