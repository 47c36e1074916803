"""``aftersales mail-intake``: take customers' e-mail in over SMTP (and from a Maildir, once).

The listener is an aiosmtpd server on ``AFTERSALES_MAIL_INTAKE_HOST``:``_PORT`` (default
127.0.0.1:8026) that the site's MTA relays the service address to; every message goes
through :func:`handlers.mail_intake.take_in`. ``--maildir-once`` instead reads the
configured Maildir once (the worker's ``mail.maildir`` job does it on every pass).
"""

from __future__ import annotations

import threading

import click

from engine import clock
from handlers.mail_intake import IntakeSettings
from handlers.mail_intake_sources import IntakeListener, read_maildir

from .main import _services, handled, main


def start_listener(services, settings: IntakeSettings) -> IntakeListener:  # type: ignore[no-untyped-def]
    """Start the SMTP intake listener of ``settings`` on the services' database; return it."""
    return IntakeListener(services.db, services.runtime, settings).start()


@main.command("mail-intake")
@click.option("--host", default=None, help="address to listen on (AFTERSALES_MAIL_INTAKE_HOST, default 127.0.0.1)")
@click.option("--port", default=None, type=click.IntRange(1, 65535),
              help="port to listen on (AFTERSALES_MAIL_INTAKE_PORT, default 8026)")
@click.option("--maildir-once", is_flag=True, help="read the configured Maildir's new messages once and exit")
@click.pass_context
@handled
def mail_intake(ctx: click.Context, host: str | None, port: int | None, maildir_once: bool) -> None:
    """Receive customers' e-mail over SMTP: new requests, replies to open tickets, refused noise."""
    services = _services(ctx)
    env = IntakeSettings.from_env()
    settings = IntakeSettings(host or env.host, port or env.port, env.maildir, env.max_bytes, env.process)
    if maildir_once:
        taken = read_maildir(services.db, services.runtime, clock.now(), settings)
        click.echo(f"mail intake: {taken} message(s) taken from {settings.maildir or 'no Maildir configured'}")
        return
    listener = start_listener(services, settings)
    click.echo(f"mail intake: listening for SMTP on {settings.host}:{settings.port} (Ctrl-C stops)")
    stop = threading.Event()
    try:
        while not stop.wait(3600):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        listener.stop()


def start_demo_listener(services) -> IntakeListener | None:  # type: ignore[no-untyped-def]
    """Start the demo's mail intake on loopback, so mail to the service is really taken in (None: port taken)."""
    env = IntakeSettings.from_env()
    settings = IntakeSettings("127.0.0.1", env.port, env.maildir, env.max_bytes, env.process)
    try:
        listener = start_listener(services, settings)
    except (OSError, RuntimeError) as exc:  # something already listens there
        click.echo(f"mail intake: 127.0.0.1:{settings.port} is in use ({exc}); no mail intake")
        return None
    click.echo(f"mail intake: customers' e-mail sent to 127.0.0.1:{settings.port} opens requests "
               "(the log is on /mail/intake)")
    return listener
