"""``casewire search check`` with its index and the owners' export RPCs replaced by fakes."""

import json

from click.testing import CliRunner

from casewire_cli import main as cli


class Owners:
    """Every export answers one empty page; ``asked`` lists the (service, method) pairs called."""

    def __init__(self):
        self.asked = []

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    def __getattr__(self, service):
        owners = self

        class Service:
            def __getattr__(self, method):
                owners.asked.append((service, method))
                return lambda after, limit: {"items": [], "next": None}

        return Service()


class EmptyIndex:
    def refresh(self, name):
        pass

    def scan(self, name, query=None):
        return iter(())


def test_check_of_one_index_asks_its_owner_alone(monkeypatch):
    owners = Owners()
    monkeypatch.setattr(cli, "_search_backend", lambda: (EmptyIndex(), owners))
    result = CliRunner().invoke(cli.main, ["search", "check", "--json", "--index", "sightings"])
    assert result.exit_code == 0, result.output
    assert list(json.loads(result.output)["indices"]) == ["sightings"]
    assert owners.asked == [("entities", "export_sightings")]


def test_check_without_an_index_asks_every_owner(monkeypatch):
    owners = Owners()
    monkeypatch.setattr(cli, "_search_backend", lambda: (EmptyIndex(), owners))
    result = CliRunner().invoke(cli.main, ["search", "check", "--json"])
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.output)["indices"]) == {"alerts", "cases", "entities", "sightings"}
    assert {service for service, _ in owners.asked} == {"intake", "cases", "entities"}
