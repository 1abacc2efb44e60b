"""``casewire compliance report``: the 28 CFR Part 23 compliance report (C27), for auditors.

It goes through the gateway with the auditor's own token, so the request is checked and audited like
any other; a sample of records is criminal intelligence, so it needs a purpose and an audit reference.
"""

import json

import click

from casewire_cli.audit import _fail, _session


@click.group("compliance")
@click.option("--gateway", envvar="CASEWIRE_GATEWAY", default="http://127.0.0.1:8080", show_default=True)
@click.option("--token", envvar="CASEWIRE_TOKEN", help="An auditor's bearer token ($CASEWIRE_TOKEN).")
@click.pass_context
def compliance(ctx: click.Context, gateway: str, token: str) -> None:
    """28 CFR Part 23 compliance (auditors)."""
    ctx.obj = {"gateway": gateway.rstrip("/"), "token": token}


@compliance.command()
@click.option("--since", help="Start of the period, ISO with offset (default: 30 days ago).")
@click.option("--until", help="End of the period, exclusive (default: now).")
@click.option("--sample", default=0, show_default=True, help="How many records to sample at random.")
@click.option("--purpose", default="compliance audit", show_default=True, help="Purpose of use (C9).")
@click.option("--case-number", "case_number", help="The audit's reference number (needed with --sample).")
@click.option("--json", "as_json", is_flag=True, help="The report as JSON instead of text.")
@click.pass_obj
def report(
    obj: dict, since: str | None, until: str | None, sample: int, purpose: str, case_number: str, as_json: bool
) -> None:
    """Print the report; exit 1 when an exception row (which must be empty) is not."""
    from services.cases.compliance import as_text

    params = {key: value for key, value in (("since", since), ("until", until), ("sample", sample)) if value}
    headers = {"X-Purpose": purpose, **({"X-Case-Number": case_number} if case_number else {})}
    response = _session(obj).get(
        f"{obj['gateway']}/api/v1/compliance/report", params=params, headers=headers, timeout=600
    )
    if response.status_code != 200:
        _fail(response)
    found = response.json()
    click.echo(json.dumps(found, indent=2, sort_keys=True) if as_json else as_text(found), nl=as_json)
    if not found.get("ok"):
        raise SystemExit(1)
