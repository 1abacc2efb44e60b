"""Plate queries: exact, partial (``?`` and ``*``) and OCR-folded or fuzzy, ranked in that order.

The folding itself is the ``plate_folded`` normalizer in Elasticsearch (see mappings.py); this
module only chooses the query clauses and their weights.
"""

import re

EXACT, FOLDED, FUZZY = 100.0, 10.0, 1.0
UNKNOWN_STATE = "??"  # a plate read without a state (entities' key ``??:ABC123``): it may be any state's
_PATTERN_OK = re.compile(r"^[A-Za-z0-9?* \-.]{1,16}$")


def is_valid_pattern(plate: str) -> bool:
    return bool(_PATTERN_OK.match(plate or "")) and bool(re.sub(r"[?* \-.]", "", plate))


def _scored(clause: dict, weight: float) -> dict:
    """A clause that adds exactly ``weight`` when it matches, so the bands never overlap."""
    return {"constant_score": {"filter": clause, "boost": weight}}


def plate_query(plate: str, state: str | None = None, fuzzy: bool = True) -> dict:
    """An Elasticsearch query for vehicles whose plate matches ``plate``."""
    kind = "wildcard" if "?" in plate or "*" in plate else "term"
    should = [_scored({kind: {"plate": plate}}, EXACT), _scored({kind: {"plate.folded": plate}}, FOLDED)]
    if fuzzy and kind == "term":
        should.append(_scored({"fuzzy": {"plate.folded": {"value": plate, "fuzziness": 1}}}, FUZZY))
    query = {"bool": {"filter": [{"term": {"type": "vehicle"}}], "should": should, "minimum_should_match": 1}}
    if state:  # a read without a state may be this state's plate: kept, and marked ambiguous by the finder
        query["bool"]["filter"].append({"terms": {"plate_state": [state.upper(), UNKNOWN_STATE]}})
    return query


def is_ambiguous(states: list[str], state: str | None) -> bool:
    """A vehicle matched only through a plate read without a state (when a state was asked), or
    known only by such plates: the state is not known, so the match may be another vehicle."""
    if state:
        return state.upper() not in states
    return bool(states) and set(states) == {UNKNOWN_STATE}


def match_kind(score: float) -> str:
    """Name the best clause that matched, from the score bands the boosts create."""
    if score >= EXACT:
        return "exact"
    if score >= FOLDED:
        return "folded"
    return "fuzzy"
