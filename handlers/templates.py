"""Rendering the deployment's templates (notifications, quote documents) in a sandbox.

Templates are files of the instance's deployment, so they are versioned with the process.
They render in Jinja's :class:`SandboxedEnvironment` with ``StrictUndefined``: a template
that uses a variable the task did not provide is a modelling bug, reported as a
:class:`HandlerError` naming the template and the variable — never a half-empty message.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from engine.errors import HandlerError, NotFound
from engine.registry import HandlerContext

from .values import business_timezone

_MISSING = re.compile(r"'([^']+)' is undefined|has no attribute '([^']+)'")


def local_time(value: Any, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """Format an ISO timestamp (or datetime) in the business time zone."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.astimezone(business_timezone()).strftime(pattern)


def environment(autoescape: bool) -> SandboxedEnvironment:
    """Return a sandboxed environment that refuses undefined variables."""
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=autoescape, keep_trailing_newline=False)
    env.filters["local_time"] = local_time
    return env


@lru_cache(maxsize=512)
def _compiled(source: str, autoescape: bool) -> Template:
    """Return ``source`` compiled (a deployment's files never change: the ticket page fills every
    message template on each view, and compiling took most of its time)."""
    return environment(autoescape).from_string(source)


def read_template(ctx: HandlerContext, path: str) -> str | None:
    """Return the text of a template file of the deployment, or None when it has none."""
    try:
        return ctx.read_file(path).decode("utf-8")
    except NotFound:
        return None


def find_template(ctx: HandlerContext, candidates: list[str]) -> tuple[str, str] | None:
    """Return ``(path, text)`` of the first of ``candidates`` the deployment has, or None."""
    for path in candidates:
        source = read_template(ctx, path)
        if source is not None:
            return path, source
    return None


def render(source: str, path: str, variables: dict[str, Any], autoescape: bool = False) -> str:
    """Render template ``source`` (named ``path`` in errors) with ``variables``."""
    try:
        return _compiled(source, autoescape).render(variables).strip()
    except UndefinedError as exc:
        found = _MISSING.search(str(exc))
        name = next((g for g in found.groups() if g), "?") if found else "?"
        raise HandlerError(f"template {path} uses variable {name!r}, which the task did not provide "
                           f"({exc.message})", template=path, variable=name) from exc
    except TemplateSyntaxError as exc:
        raise HandlerError(f"template {path} line {exc.lineno}: {exc.message}", template=path) from exc
    except SecurityError as exc:
        raise HandlerError(f"template {path} did something the sandbox refuses: {exc}", template=path) from exc
