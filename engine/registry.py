"""The service-handler registry: ``@handler("parts.reserve")`` on a plain function.

A handler is a typed function taking keyword arguments (the BPMN operator's parameters)
and returning JSON-able data, which lands in the task's result variable. A handler that
declares a first parameter named ``ctx`` receives a :class:`HandlerContext` (database
session, instance, task, clock) — the only way it reaches the engine. Business
outcomes that the process models (out of stock, not entitled, …) are raised as
:class:`BusinessError`; the engine turns them into BPMN error events.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .errors import HandlerError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class BusinessError(Exception):
    """Raised by a handler for an outcome the process models as a BPMN error (by ``code``)."""

    def __init__(self, code: str, message: str = "", payload: dict[str, Any] | None = None) -> None:
        super().__init__(message or code)
        self.code = code
        self.message = message or code
        self.payload = payload or {}


@dataclass
class HandlerContext:
    """What a handler may know of the engine during one service-task call."""

    session: Session
    instance_id: int
    deployment_id: int
    business_key: str | None
    task_id: str
    element_id: str
    now: datetime
    attempt: int = 1
    actor: str = "system"
    extra: dict[str, Any] = field(default_factory=dict)
    on_business_key: Callable[[str], None] | None = None

    def set_business_key(self, key: str) -> None:
        """Make ``key`` (a ticket number) the business key of the running instance."""
        if self.on_business_key is None:
            raise HandlerError("this call cannot set a business key")
        self.on_business_key(key)
        self.business_key = key

    def read_file(self, path: str) -> bytes:
        """Return a file of the instance's deployment (templates, rules: versioned with the process)."""
        from .forms import load_file

        return load_file(self.session, self.deployment_id, path)

    @property
    def idempotency_key(self) -> str:
        """Return a key that is the same for every attempt of this task in this instance."""
        return f"{self.instance_id}:{self.task_id}"


@dataclass(frozen=True)
class Parameter:
    """One declared parameter of a handler."""

    name: str
    required: bool
    annotation: str


@dataclass(frozen=True)
class Handler:
    """A registered handler: its name, function and declared parameters."""

    name: str
    func: Callable[..., Any]
    parameters: tuple[Parameter, ...]
    wants_context: bool
    accepts_any: bool
    doc: str

    def check_arguments(self, given: set[str]) -> list[str]:
        """Return what is wrong with calling this handler with parameters ``given``."""
        problems = []
        names = {p.name for p in self.parameters}
        missing = sorted(p.name for p in self.parameters if p.required and p.name not in given)
        unknown = sorted(given - names) if not self.accepts_any else []
        if missing:
            problems.append(f"missing parameter(s) {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown parameter(s) {', '.join(unknown)}")
        return problems

    def call(self, ctx: HandlerContext, arguments: dict[str, Any]) -> Any:
        """Call the function with ``arguments`` (and ``ctx`` when it wants one)."""
        problems = self.check_arguments(set(arguments))
        if problems:
            raise HandlerError(f"handler {self.name!r} called wrongly: {'; '.join(problems)}",
                               handler=self.name)
        if self.wants_context:
            return self.func(ctx, **arguments)
        return self.func(**arguments)


_REGISTRY: dict[str, Handler] = {}


def handler(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function as the service handler ``name``."""

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        if name in _REGISTRY and _REGISTRY[name].func is not func:
            raise HandlerError(f"handler {name!r} is registered twice "
                               f"({_REGISTRY[name].func.__module__} and {func.__module__})")
        _REGISTRY[name] = _describe(name, func)
        return func

    return register


def _describe(name: str, func: Callable[..., Any]) -> Handler:
    signature = inspect.signature(func)
    params = list(signature.parameters.values())
    wants_context = bool(params) and params[0].name == "ctx"
    if wants_context:
        params = params[1:]
    declared = tuple(
        Parameter(p.name, p.default is inspect.Parameter.empty,
                  p.annotation if isinstance(p.annotation, str) else getattr(p.annotation, "__name__", ""))
        for p in params
        if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    )
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
    doc = inspect.getdoc(func) or ""
    return Handler(name, func, declared, wants_context, accepts_any, doc.splitlines()[0] if doc else "")


def get_handler(name: str) -> Handler:
    """Return the handler registered as ``name``."""
    load_handlers()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise HandlerError(f"no handler is registered for operator {name!r}", handler=name) from None


def all_handlers() -> dict[str, Handler]:
    """Return every registered handler by name."""
    load_handlers()
    return dict(sorted(_REGISTRY.items()))


# Rules that reserve a ready human task for one user (a dispatched technician's visit): given
# the session, the instance's business key, the task's element id and role, a rule returns the
# username the task belongs to, or None. Registered by plug-in modules, like handlers.
AssigneeRule = Callable[["Session", "str | None", str, "str | None"], "str | None"]
_ASSIGNEE_RULES: dict[str, AssigneeRule] = {}


def assignee_rule(func: AssigneeRule) -> AssigneeRule:
    """Register ``func`` as a rule that reserves ready tasks for a user (re-import safe)."""
    _ASSIGNEE_RULES[f"{func.__module__}.{func.__qualname__}"] = func
    return func


def reserved_assignee(session: Session, business_key: str | None, element_id: str,
                      role: str | None) -> str | None:
    """Return the user a ready task is reserved for by a registered rule, or None."""
    for rule in _ASSIGNEE_RULES.values():
        owner = rule(session, business_key, element_id, role)
        if owner:
            return owner
    return None


_loaded = False

# The packages whose modules register handlers, tables and worker jobs when imported. The
# engine names them here and imports them by name, never statically: they sit above it.
PLUGIN_PACKAGES = ("handlers", "analytics")


def load_handlers() -> None:
    """Import every module of the plug-in packages (handlers, analytics) so their decorators run."""
    global _loaded
    if _loaded:
        return
    for name in PLUGIN_PACKAGES:
        try:
            package = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # an engine installed without that package
        for module in pkgutil.iter_modules(package.__path__, prefix=f"{name}."):
            importlib.import_module(module.name)
    _loaded = True
