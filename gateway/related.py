"""What the entities service knows, cut to what the caller may see: related records, counts, entity reads.

The entities service answers for every agency and unit; the gateway names to a caller only the alerts
and cases that caller may open (C3, C6): a case by the cases service's own rule, asked once per
request (``cases.visible_cases``, at most 200 ids a call), an alert by its agency
(``casewire.access_rules.alert_visible``; a sighting knows the agency its alert belongs to, not its
assignee). Each answer costs one call to each service per request, never one per record.
"""

from collections.abc import Callable, Iterable

from flask import current_app

from casewire import access_rules
from casewire.errors import Unavailable
from gateway.rpc import Rpc

EARLIER_SIGHTINGS = 20  # per entity of one alert, newest first
VISIBLE_CASES_CALL = 200  # ids cases.visible_cases answers at most per call


def _rpc() -> Rpc:
    return current_app.extensions["rpc"]


class Seen:
    """Which of some records the caller may see: ``shows(record_type, id, agency)``.

    If the cases service does not answer, no case is shown and ``pending`` is true.
    """

    def __init__(self, context: dict, case_ids: Iterable[str]):
        self.caller = access_rules.Caller.from_context(context)
        self.cases: dict[str, dict] = {}
        self.pending = False
        ids = list(dict.fromkeys(case_ids))
        try:
            for start in range(0, len(ids), VISIBLE_CASES_CALL):
                chunk = ids[start : start + VISIBLE_CASES_CALL]
                self.cases.update({c["id"]: c for c in _rpc().call("cases", "visible_cases", chunk, context)["items"]})
        except Unavailable:
            self.cases, self.pending = {}, True

    def shows(self, record_type: str, record_id: str, agency: str | None) -> bool:
        if record_type == "case":
            return record_id in self.cases
        return access_rules.alert_visible(self.caller, {"agency": agency})


def alert_with_cases(alert: dict, context: dict) -> dict:
    """``alert`` with current ``related`` records, ``related_cases`` and each entity's ``earlier_sightings``,
    cut to what the caller may see.

    ``related`` is asked of the entities service now (a case linked since the alert arrived shows up);
    if it does not answer, the alert's stored copy is used, and no entity gets ``earlier_sightings``
    (``earlier_sightings_pending`` is true).
    ``cases`` (what the alert was promoted into) and ``related_cases`` keep the cases the caller may
    open; if the cases service does not answer, no case is named and ``related_cases_pending`` is true.
    Each entity's ``earlier_sightings`` are its newest sightings (at most :data:`EARLIER_SIGHTINGS`)
    by other records up to the alert's time, newest first.
    """
    try:
        related = _rpc().call("entities", "related_records", "alert", alert["id"])
    except Unavailable:
        related = alert.get("related") or []
    try:
        earlier = _rpc().call("entities", "earlier_sightings", "alert", alert["id"], EARLIER_SIGHTINGS)
    except Unavailable:
        earlier = None
    named = list(dict.fromkeys([r["id"] for r in related if r["record_type"] == "case"] + alert.get("cases", [])))
    sightings = [s for found in (earlier or {}).values() for s in found]
    case_ids = named + [s["record_id"] for s in sightings if s["record_type"] == "case"]
    seen = Seen(context, case_ids)
    alert["related"] = [r for r in related if seen.shows(r["record_type"], r["id"], r.get("agency"))]
    alert["cases"] = [case_id for case_id in alert.get("cases", []) if case_id in seen.cases]
    alert["related_cases"] = [seen.cases[case_id] for case_id in named if case_id in seen.cases]
    for entity in alert.get("entities") or []:
        if earlier is not None:
            found = earlier.get(entity.get("id"), [])
            entity["earlier_sightings"] = [
                s for s in found if seen.shows(s["record_type"], s["record_id"], s.get("agency"))
            ]
    if earlier is None:
        alert["earlier_sightings_pending"] = True
    if seen.pending:
        alert["related_cases_pending"] = True
    return alert


def with_related_counts(page: dict, context: dict, group: Callable[[dict], list[str]]) -> dict:
    """Each item of a list page with ``related_count``: the records sharing entities with ``group(item)``
    (an alert: itself; a case: itself and its alerts) that the caller may see, counted now.

    One ``search.related_counts`` call for the page (read from the index); ``null`` when the search
    service does not answer.
    """
    items = page.get("items") or []
    groups = {item["id"]: group(item) for item in items}
    _counted(items, _answer(_sent("search", "related_counts", groups, context)) if groups else {})
    return page


def _counted(items: list[dict], found: dict) -> list[dict]:
    """``items``, each with its ``related_count`` from ``found`` (None when it has none)."""
    for item in items:
        item["related_count"] = found.get(item["id"])
    return items


def _sent(service: str, method: str, *args) -> Callable[[], dict] | None:
    """A call sent now and answered later (:meth:`gateway.rpc.Rpc.send`); None when it cannot be sent."""
    try:
        return _rpc().send(service, method, *args)
    except Unavailable:
        return None


def _answer(sent: Callable[[], dict] | None) -> dict:
    """The answer of a call :func:`_sent` sent; ``{}`` when there is none."""
    try:
        return sent() if sent is not None else {}
    except Unavailable:
        return {}


def entity_for(entity: dict, context: dict) -> dict:
    """An entity read with its ``sightings``, ``alerts`` and ``cases`` cut to the records the caller may see.

    Stated links and merges come already cut to the caller's agency's (the entities service decides);
    ``cases_pending`` is true when the cases service did not answer and no case is shown.
    """
    sightings = entity.get("sightings") or []
    seen = Seen(context, [s["record_id"] for s in sightings if s["record_type"] == "case"])
    entity["sightings"] = [s for s in sightings if seen.shows(s["record_type"], s["record_id"], s.get("agency"))]
    entity["alerts"] = [a for a in entity.get("alerts") or [] if seen.shows("alert", a["id"], a.get("agency"))]
    entity["cases"] = [c for c in entity.get("cases") or [] if seen.shows("case", c["id"], None)]
    if seen.pending:
        entity["cases_pending"] = True
    return entity


def graph_for(graph: dict, context: dict) -> dict:
    """An entity graph without the alerts and cases the caller may not see, the edges through them,
    and the entities reachable only through them.

    A co-occurrence edge keeps the evidence records the caller may see and goes when none is left.
    """
    nodes = {node["id"]: node for node in graph["nodes"]}
    seen = Seen(context, [node_id for node_id, node in nodes.items() if node["kind"] == "case"])
    shown = {
        node_id
        for node_id, node in nodes.items()
        if node["kind"] == "entity" or seen.shows(node["kind"], node_id, node.get("agency"))
    }
    edges = []
    for edge in graph["edges"]:
        if edge["source"] not in shown or edge["target"] not in shown:
            continue
        if edge["kind"] == "co_occurrence":
            evidence = [e for e in edge["evidence"] if e["record_id"] in shown]
            if not evidence:
                continue
            edge = {**edge, "evidence": evidence}
        edges.append(edge)
    reached = _reachable(next(node["id"] for node in graph["nodes"] if node["level"] == 0), edges)
    graph["nodes"] = [node for node in graph["nodes"] if node["id"] in reached]
    graph["edges"] = [edge for edge in edges if edge["source"] in reached and edge["target"] in reached]
    if seen.pending:
        graph["cases_pending"] = True
    return graph


def _reachable(root: str, edges: list[dict]) -> set[str]:
    neighbours: dict[str, set[str]] = {}
    for edge in edges:
        neighbours.setdefault(edge["source"], set()).add(edge["target"])
        neighbours.setdefault(edge["target"], set()).add(edge["source"])
    reached, frontier = {root}, [root]
    while frontier:
        frontier = [other for node in frontier for other in neighbours.get(node, ()) if other not in reached]
        reached.update(frontier)
    return reached
