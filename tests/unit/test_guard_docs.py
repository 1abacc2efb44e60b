"""Guarded endpoints document themselves: action, roles, refusals and, for C9, the purpose fields."""

from flask import Flask
from flask_smorest import Api, Blueprint

from gateway.app import create_app
from gateway.guard_docs import GuardDocs
from gateway.guards import guard_for, guarded, public


def spec_with(purpose_required: bool) -> dict:
    app = Flask(__name__)
    app.config.update(API_TITLE="t", API_VERSION="1", OPENAPI_VERSION="3.0.3")
    api = Api(app, spec_kwargs={"extra_plugins": [GuardDocs(app)]})
    blp = Blueprint("intel", __name__, url_prefix="/intel")

    @blp.route("/<record_id>")
    @blp.response(200)
    @guarded("case.read", record_type="case", record_arg="record_id", purpose_required=purpose_required)
    def read(record_id):
        """Read one record."""
        return {}

    api.register_blueprint(blp)
    return api.spec.to_dict()["paths"]["/intel/{record_id}"]["get"]


def test_C9_purpose_fields_are_documented_where_required():
    operation = spec_with(purpose_required=True)
    parameters = {(p["in"], p["name"]) for p in operation["parameters"]}
    assert {("header", "X-Purpose"), ("header", "X-Case-Number"), ("query", "purpose"), ("query", "case_number")} <= (
        parameters
    )
    assert {"400", "401", "403", "429"} <= set(map(str, operation["responses"]))


def test_operations_name_their_action_and_roles():
    operation = spec_with(purpose_required=False)
    assert operation["x-casewire-action"] == "case.read"
    assert operation["x-casewire-roles"] == ["analyst", "detective", "supervisor"]
    assert "X-Purpose" not in {p["name"] for p in operation.get("parameters", [])}
    assert "400" not in map(str, operation["responses"])


def test_the_guard_is_visible_through_flask_smorest_decorators():
    app = create_app({"STREAM_ENABLED": "false"})
    view = app.view_functions["search.search_plates"]
    assert view.casewire_action == "search.plates" and guard_for(view, "GET").action == "search.plates"
    assert guard_for(view, "HEAD") is guard_for(view, "GET")
    assert public(lambda: None).casewire_public is True
