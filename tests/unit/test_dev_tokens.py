"""Development tokens fail closed: the public default secret runs only in explicit development mode."""

import pytest

from casewire.config import load_config
from gateway.app import CONFIG_FILE, create_app
from gateway.auth import PUBLIC_DEV_SECRET, InsecureConfiguration, InvalidToken, TokenVerifier, mint_dev_token

PRODUCTION_LIKE = {"OIDC_ISSUER": "", "DEV_MODE": "false"}


def test_the_public_default_is_the_one_the_gateway_config_ships():
    assert load_config(CONFIG_FILE, environ={})["DEV_JWT_SECRET"] == PUBLIC_DEV_SECRET


@pytest.mark.parametrize("secret", [PUBLIC_DEV_SECRET, "", None])
def test_C28_without_an_issuer_the_public_or_an_empty_secret_refuses_to_start(secret):
    with pytest.raises(InsecureConfiguration, match="CASEWIRE_OIDC_ISSUER.*CASEWIRE_DEV_MODE=1"):
        create_app({**PRODUCTION_LIKE, "DEV_JWT_SECRET": secret})


def test_C28_the_shipped_config_without_environment_refuses_to_start(monkeypatch):
    """What a deployment that forgets OIDC (k8s base: empty JWKS URL, no secret) would run."""
    for name in ("CASEWIRE_DEV_MODE", "CASEWIRE_DEV_JWT_SECRET", "CASEWIRE_OIDC_ISSUER"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(InsecureConfiguration):
        create_app()


@pytest.mark.parametrize("mode", ["1", "true", "on", 1, True])
def test_explicit_development_mode_allows_the_public_secret(mode):
    verifier = TokenVerifier({"DEV_JWT_SECRET": PUBLIC_DEV_SECRET, "DEV_MODE": mode})
    assert verifier.algorithms == ["HS256"]


@pytest.mark.parametrize("mode", ["0", "false", "", "no", 0, False])
def test_anything_but_an_explicit_yes_is_not_development_mode(mode):
    with pytest.raises(InsecureConfiguration):
        TokenVerifier({"DEV_JWT_SECRET": PUBLIC_DEV_SECRET, "DEV_MODE": mode})


def test_an_operator_secret_runs_without_development_mode():
    """The k8s dev overlay: its own secret from a Secret, no development mode. Its tokens are accepted;
    one signed with the public default is not."""
    secret = "an-operator-chosen-secret-of-enough-length"
    app = create_app({**PRODUCTION_LIKE, "DEV_JWT_SECRET": secret, "STREAM_ENABLED": "false"})
    tokens = app.extensions["tokens"]
    assert tokens.verify(mint_dev_token(secret, "dana", ["detective"], agency="TX0000000")).sub == "dana"
    with pytest.raises(InvalidToken):
        tokens.verify(mint_dev_token(PUBLIC_DEV_SECRET, "mallory", ["admin"], agency="TX0000000"))
