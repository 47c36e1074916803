"""``aftersales apikeys``: admins create, list and revoke integration keys from the shell.

Not wired into ``cli.main`` by this module; the CLI adds it with
``main.add_command(apikeys)``.
"""

from __future__ import annotations

import json

import click

from engine.apikeys import SCOPES, create_key, key_view, list_keys, revoke_key
from engine.errors import AftersalesError
from web.services import Services


@click.group("apikeys")
def apikeys() -> None:
    """API keys of channel integrations."""


def _run(action):  # type: ignore[no-untyped-def]
    services = Services.from_settings()
    try:
        with services.db.transaction() as session:
            return action(session)
    except AftersalesError as exc:
        click.echo(f"error: {exc.message}", err=True)
        raise SystemExit(exc.exit_code) from exc
    finally:
        services.db.dispose()


@apikeys.command("create")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(sorted(SCOPES)), required=True)
@click.option("--role", "roles", multiple=True, help="roles the key acts with (for tasks)")
@click.option("--by", default="admin", show_default=True)
def create(name: str, scopes: tuple[str, ...], roles: tuple[str, ...], by: str) -> None:
    """Create a key; it is printed once and stored only as a hash."""
    token = _run(lambda s: create_key(s, name, list(scopes), list(roles), by)[1])
    click.echo(token)


@apikeys.command("list")
def list_() -> None:
    """List the keys (never their secrets)."""
    click.echo(json.dumps(_run(lambda s: [key_view(k) for k in list_keys(s)]), indent=2))


@apikeys.command("revoke")
@click.argument("name")
@click.option("--by", default="admin", show_default=True)
def revoke(name: str, by: str) -> None:
    """Revoke the key of an integration."""
    _run(lambda s: revoke_key(s, name, by))
    click.echo(f"revoked {name}")
