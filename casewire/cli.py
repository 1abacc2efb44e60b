"""The ``casewire`` command: operator tools. Each command imports what it needs when it runs."""

import os
from pathlib import Path

import click

from casewire.config import load_config

GATEWAY_CONFIG = Path(__file__).resolve().parent.parent / "gateway" / "config.yaml"


@click.group()
def main():
    """Casewire operator commands."""


@main.command()
@click.option("--sub", required=True, help="User or system id, e.g. alice or flock-webhook.")
@click.option("--roles", required=True, help="Comma-separated: source, analyst, detective, supervisor, auditor, admin.")
@click.option("--agency", default=None, help="The agency's ORI, e.g. TX0000000.")
@click.option("--unit", default=None, help="The user's unit, e.g. rtcc or homicide.")
@click.option("--name", default=None, help="Display name.")
@click.option("--hours", default=12.0, show_default=True, help="Lifetime of the token.")
def token(sub, roles, agency, unit, name, hours):
    """Mint a development token (HS256, signed with the gateway's DEV_JWT_SECRET)."""
    from gateway.auth import mint_dev_token
    from gateway.permissions import ROLES

    wanted = [role.strip() for role in roles.split(",") if role.strip()]
    unknown = sorted(set(wanted) - set(ROLES))
    if unknown:
        raise click.BadParameter(f"unknown roles {unknown}; choose from {list(ROLES)}", param_hint="--roles")
    config = load_config(os.environ.get("GATEWAY_CONFIG", GATEWAY_CONFIG))
    if config.get("OIDC_JWKS_URL"):
        raise click.UsageError("this gateway verifies OIDC tokens; ask the identity provider for one")
    click.echo(mint_dev_token(config["DEV_JWT_SECRET"], sub, wanted, agency, unit, name, hours))


@main.command()
@click.option("--gateway", default="http://127.0.0.1:8080", show_default=True, help="The gateway's URL.")
def demo(gateway):
    """Load the demo data set (the seed's story) through the gateway; safe to run twice."""
    import requests

    from casewire import demo as demo_data
    from gateway.auth import mint_dev_token

    config = load_config(os.environ.get("GATEWAY_CONFIG", GATEWAY_CONFIG))
    token = mint_dev_token(config["DEV_JWT_SECRET"], "demo-loader", ["source"], agency="TX0000000")
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    results = demo_data.load(lambda body: session.post(f"{gateway}/api/v1/alerts", json=body, timeout=60))
    created = sum(1 for status, _ in results if status == 201)
    click.echo(f"demo data: {created} alerts created, {len(results) - created} already there")


from casewire.audit_cli import audit  # noqa: E402

main.add_command(audit)
