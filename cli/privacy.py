"""``aftersales privacy``: export or erase one customer's personal data on their request.

Both are recorded (``privacy_request`` and the ``privacy`` audit stream); erasure keeps
``aftersales audit verify`` passing (see docs/privacy.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from handlers.privacy_requests import erase_customer, export_customer

from .main import _services, handled, main

CUSTOMER_HELP = "the customer's phone number or e-mail address"


@main.group("privacy")
def privacy() -> None:
    """Customers' privacy requests: export and erasure of their data."""


@privacy.command("export")
@click.option("--customer", required=True, help=CUSTOMER_HELP)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="write the JSON here (default: stdout)")
@click.option("--by", default="cli", show_default=True, help="who handles the request (recorded)")
@click.pass_context
@handled
def export(ctx: click.Context, customer: str, out: Path | None, by: str) -> None:
    """Print everything stored about a customer as one JSON document."""
    with _services(ctx).db.transaction() as session:
        document = export_customer(session, customer, by)
    text = json.dumps(document, indent=2, ensure_ascii=False, default=str)
    if out is None:
        click.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"exported {len(document['tickets'])} ticket(s) to {out}")


@privacy.command("erase")
@click.option("--customer", required=True, help=CUSTOMER_HELP)
@click.option("--reason", required=True, help="why (the request's reference; recorded in the audit trail)")
@click.option("--by", default="cli", show_default=True, help="who handles the request (recorded)")
@click.pass_context
@handled
def erase(ctx: click.Context, customer: str, reason: str, by: str) -> None:
    """Erase a customer's personal data everywhere; refused while one of their tickets is open."""
    with _services(ctx).db.transaction() as session:
        result = erase_customer(session, customer, reason, by)
    click.echo(json.dumps(result, indent=2, ensure_ascii=False))
