"""The RestrictedPython environment every BPMN script, condition and expression runs in.

The stock SpiffWorkflow environment is plain ``exec`` with full builtins: a modeller could
``import os``. Here code is compiled with ``compile_restricted``: no imports, no ``open``,
no ``exec``/``eval``, no dunder or private attribute access; writes only to dicts and
lists. It has no CPU limit: scripts are configuration written by process owners, and
real work belongs in handlers.

:func:`check_script` states the same rules statically: deploying refuses a script the
sandbox would refuse, naming the line. ``date``, ``datetime`` and their ``strftime`` /
``strptime`` work, and ``today()`` / ``now()`` read the engine's clock (:mod:`engine.clock`).
"""

from __future__ import annotations

import ast
import builtins as _builtins
import copy
import importlib
import operator
import re
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from RestrictedPython import (
    compile_restricted,
    compile_restricted_eval,
    compile_restricted_exec,
    limited_builtins,
    safe_globals,
    utility_builtins,
)
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from . import clock
from .errors import ScriptError

_INPLACE = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow,
    "|=": operator.ior, "&=": operator.iand, "^=": operator.ixor,
}


def _inplacevar(op: str, target: Any, value: Any) -> Any:
    try:
        return _INPLACE[op](target, value)
    except KeyError:
        raise ScriptError(f"operator {op} is not allowed in scripts") from None


_C_HELPER_IMPORTS = frozenset({"time", "_strptime"})


def _import(name: str, globals: Any = None, locals: Any = None, fromlist: Any = None, level: int = 0) -> Any:
    """Refuse every import a script makes; let ``datetime``'s C helpers load ``time``.

    ``date.today()``, ``strftime`` and ``strptime`` import ``time`` / ``_strptime`` through
    ``PyImport_Import``, which calls the running script's ``__import__`` with an empty
    *list* as ``fromlist``. An ``import`` statement passes ``None`` or a tuple, and a script
    cannot call ``__import__`` itself (names starting with ``_`` are refused).
    """
    if type(fromlist) is list and not fromlist and level == 0 and name in _C_HELPER_IMPORTS:
        return importlib.import_module(name)
    raise ScriptError(f"import of {name!r} is not allowed in BPMN scripts; call a service handler instead")


class _PlainValues(type):
    """Metaclass of the script date classes: ``isinstance`` answers for the stdlib class."""

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, cls.__mro__[1])


class ScriptDate(date, metaclass=_PlainValues):
    """``date`` in scripts: ``today()`` is the engine clock's day (UTC); values are plain dates.

    The serializer looks value types up exactly, so a subclass instance could never be
    stored; plain ``date`` and ``Decimal`` values are (``engine.spiff`` registers them).
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> date:  # type: ignore[misc]
        return date(*args, **kwargs)

    @classmethod
    def today(cls) -> date:  # type: ignore[override]
        """Return the engine clock's date in UTC."""
        return clock.now().date()


class ScriptDateTime(datetime, metaclass=_PlainValues):
    """``datetime`` in scripts: ``now()`` / ``today()`` read the engine clock (aware, UTC)."""

    def __new__(cls, *args: Any, **kwargs: Any) -> datetime:  # type: ignore[misc]
        return datetime(*args, **kwargs)

    @classmethod
    def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
        """Return the engine clock's time, in UTC or in ``tz``."""
        current = clock.now()
        return current if tz is None else current.astimezone(tz)

    @classmethod
    def today(cls) -> datetime:  # type: ignore[override]
        """Return the engine clock's time in UTC."""
        return clock.now()

    @classmethod
    def utcnow(cls) -> datetime:  # type: ignore[override]
        """Return the engine clock's time as a naive UTC datetime (as the stdlib does)."""
        return clock.now().replace(tzinfo=None)


def _build_globals() -> dict[str, Any]:
    builtins = dict(safe_globals["__builtins__"])
    builtins.update(limited_builtins)
    builtins.update(utility_builtins)
    for name in ("sum", "min", "max", "any", "all", "dict", "list", "enumerate", "sorted",
                 "reversed", "map", "filter", "round", "abs", "len", "range", "zip", "set"):
        builtins[name] = __builtins__[name] if isinstance(__builtins__, dict) else getattr(__builtins__, name)
    for name in ("string", "math", "random", "whrandom", "same_type", "test", "DateTime"):
        builtins.pop(name, None)  # modules and odd helpers stay out of task data
    builtins["__import__"] = _import
    return {
        "__builtins__": builtins,
        "_getattr_": safer_getattr,
        "_getitem_": default_guarded_getitem,
        "_getiter_": default_guarded_getiter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": full_write_guard,
        "_inplacevar_": _inplacevar,
        "Decimal": Decimal,
        "timedelta": timedelta,
        "timezone": timezone,
        "date": ScriptDate,
        "datetime": ScriptDateTime,
        "utc_datetime": lambda *a: datetime(*a, tzinfo=UTC),
    }


_GLOBALS = _build_globals()
_CODE_CACHE: dict[tuple[str, str], Any] = {}


def compile_script(source: str, mode: str) -> Any:
    """Compile ``source`` under RestrictedPython, raising :class:`ScriptError` if refused."""
    key = (source, mode)
    code = _CODE_CACHE.get(key)
    if code is None:
        try:
            with warnings.catch_warnings():  # "prints, but never reads 'printed'" is not ours to show
                warnings.simplefilter("ignore", SyntaxWarning)
                code = compile_restricted(source, "<string>", mode)
        except SyntaxError as exc:  # RestrictedPython's own errors carry lineno=None
            reason = exc.msg or exc.args[0]
            if isinstance(reason, tuple | list):
                reason = "; ".join(str(r) for r in reason)
            raise ScriptError(f"script refused by the sandbox: {reason}") from None
        if len(_CODE_CACHE) > 4096:
            _CODE_CACHE.clear()
        _CODE_CACHE[key] = code
    return code


@dataclass(frozen=True)
class ScriptProblem:
    """Why the sandbox refuses a script: the line inside the script (1-based) and the reason."""

    line: int | None
    message: str


_SANDBOX_NAMES = set(_GLOBALS["__builtins__"]) | set(_GLOBALS)
_UNAVAILABLE = frozenset(
    name for name in dir(_builtins)
    if not name.startswith("_") and name not in _SANDBOX_NAMES and callable(getattr(_builtins, name))
    and not (isinstance(getattr(_builtins, name), type) and issubclass(getattr(_builtins, name), BaseException))
) - {"exec", "eval"}  # RestrictedPython refuses these calls itself
_LINE = re.compile(r"^Line (\d+|None): ")


def check_script(source: str, mode: str) -> list[ScriptProblem]:
    """Return every reason the sandbox would refuse ``source`` ("exec" script or "eval" expression).

    RestrictedPython's compile-time refusals (syntax, ``_`` names, ``exec``/``eval``), then
    what it leaves to run time: imports, and calls of builtins the sandbox does not offer
    (``open``, ``type``, ``getattr``, ``print`` …) unless the script defines that name itself.
    """
    compile_mode = compile_restricted_exec if mode == "exec" else compile_restricted_eval
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        compiled = compile_mode(source)
    problems = [_problem_from(error) for error in compiled.errors]
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError:
        return problems
    bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    bound |= {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    bound |= {a.arg for n in ast.walk(tree) if isinstance(n, ast.arguments)
              for a in [*n.posonlyargs, *n.args, *n.kwonlyargs, n.vararg, n.kwarg] if a is not None}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            module = (node.module or ".") if isinstance(node, ast.ImportFrom) else node.names[0].name
            problems.append(ScriptProblem(node.lineno, f"import of {module!r} is not allowed in BPMN scripts; "
                                                       f"call a service handler instead"))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _UNAVAILABLE
              and node.func.id not in bound):
            problems.append(ScriptProblem(node.lineno, _unavailable(node.func.id)))
    return sorted(problems, key=lambda p: p.line or 0)


def _problem_from(error: str) -> ScriptProblem:
    match = _LINE.match(error)
    if match is None:
        return ScriptProblem(None, error)
    line = match.group(1)
    return ScriptProblem(int(line) if line != "None" else None, error[match.end():].rstrip("."))


def _unavailable(name: str) -> str:
    if name == "print":
        return "print() is not available in BPMN scripts: its output goes nowhere; assign the value to a variable"
    return (f"{name}() is not available in BPMN scripts: they compute with task data only; "
            f"call a service handler for anything else")


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """A SpiffWorkflow script environment that runs code under RestrictedPython."""

    def __init__(self, extra_globals: dict[str, Any] | None = None) -> None:
        super().__init__({**_GLOBALS, **(extra_globals or {})})

    def evaluate(self, expression: str, context: dict[str, Any],
                 external_context: dict[str, Any] | None = None) -> Any:
        """Evaluate one expression against task data."""
        code = compile_script(expression, "eval")
        return eval(code, {**self.globals, **(external_context or {}), **context})  # noqa: S307

    def execute(self, script: str, context: dict[str, Any],
                external_context: dict[str, Any] | None = None) -> bool:
        """Run a script; keep its new variables in task data only if it succeeds."""
        code = compile_script(script, "exec")
        local = copy.deepcopy(context)  # nested values are shared with ancestor tasks: never mutate them
        exec(code, {**self.globals, **(external_context or {})}, local)  # noqa: S102
        for name, value in local.items():
            if name.startswith("_") or callable(value) or type(value).__name__ == "module":
                continue
            if name not in context or context[name] != value:
                context[name] = value
        for name in [n for n in context if n not in local]:
            del context[name]
        return True

    def call_service(self, context: dict[str, Any], operation_name: str,
                     operation_params: dict[str, Any]) -> str:
        """Refuse: service tasks call handlers through :mod:`engine.service`."""
        raise ScriptError(f"service {operation_name!r} must run through the handler registry")
