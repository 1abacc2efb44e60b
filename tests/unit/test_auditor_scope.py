"""An auditor's scope is its own agency unless its token carries an explicit oversight claim
(``oversight_agencies``: ORIs, or ``*`` for every agency; docs/security.md, "Auditors")."""

import jwt
import pytest

from gateway.auth import PUBLIC_DEV_SECRET, InvalidToken, TokenVerifier, mint_dev_token
from services.audit.dependencies import query
from services.cases import compliance

VERIFIER = TokenVerifier({"DEV_JWT_SECRET": PUBLIC_DEV_SECRET, "DEV_MODE": "1"})


def identity(**claims):
    return VERIFIER.verify(mint_dev_token(PUBLIC_DEV_SECRET, "audra", ["auditor"], agency="TX0000000", **claims))


def test_an_auditor_audits_its_own_agency_without_a_claim():
    assert identity().audited_agencies() == ("TX0000000",)


def test_an_oversight_claim_adds_the_agencies_it_names_or_every_agency():
    assert identity(oversight=["CA0000000"]).audited_agencies() == ("TX0000000", "CA0000000")
    assert identity(oversight=["*"]).audited_agencies() is None


@pytest.mark.parametrize("claim", ["*", [1, 2], {"all": True}])
def test_an_oversight_claim_that_is_not_a_list_of_oris_is_refused(claim):
    token = jwt.encode(
        {**jwt.decode(mint_dev_token(PUBLIC_DEV_SECRET, "a", ["auditor"]), options={"verify_signature": False}),
         "oversight_agencies": claim},
        PUBLIC_DEV_SECRET,
        algorithm="HS256",
    )  # fmt: skip
    with pytest.raises(InvalidToken):
        VERIFIER.verify(token)


def test_C27_the_compliance_report_scope_follows_the_same_claim():
    auditor = {"actor": {"id": "audra", "agency": "TX0000000", "roles": ["auditor"]}}
    records = [{"agency": "TX0000000"}, {"agency": "CA0000000"}, {"agency": None}]
    assert compliance.within(compliance.report_scope(auditor), records) == [{"agency": "TX0000000"}]
    wider = compliance.report_scope({**auditor, "oversight": ["CA0000000"]})
    assert compliance.within(wider, records) == records[:2]
    assert compliance.within(compliance.report_scope({**auditor, "oversight": ["*"]}), records) == records
    releases = [{"record_agency": "CA0000000", "by_agency": "TX0000000"}, {"by_agency": "TX0000000"}]
    assert compliance.within(compliance.report_scope(auditor), releases) == releases[1:]


def test_an_agencyless_scope_reaches_no_system_event_nor_one_without_a_record_agency():
    clauses = query({"agencies": [None]})["$or"]
    assert clauses[0] == {"actor.agency": {"$in": [None]}, "actor.id": {"$ne": "system"}}
    assert clauses[1] == {"details.record_agency": {"$in": [None], "$exists": True}}
