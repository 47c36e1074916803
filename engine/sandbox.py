"""The RestrictedPython environment every BPMN script, condition and expression runs in.

The stock SpiffWorkflow environment is plain ``exec`` with full builtins: a modeller could
``import os``. Here code is compiled with ``compile_restricted``: no imports, no ``open``,
no ``exec``/``eval``, no dunder or private attribute access; writes only to dicts and
lists. It has no CPU limit: scripts are configuration written by process owners, and
real work belongs in handlers.
"""

from __future__ import annotations

import copy
import operator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from RestrictedPython import compile_restricted, limited_builtins, safe_globals, utility_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

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


def _no_import(name: str, *args: Any, **kwargs: Any) -> Any:
    raise ScriptError(f"import of {name!r} is not allowed in BPMN scripts; call a service handler instead")


def _build_globals() -> dict[str, Any]:
    builtins = dict(safe_globals["__builtins__"])
    builtins.update(limited_builtins)
    builtins.update(utility_builtins)
    for name in ("sum", "min", "max", "any", "all", "dict", "list", "enumerate", "sorted",
                 "reversed", "map", "filter", "round", "abs", "len", "range", "zip", "set"):
        builtins[name] = __builtins__[name] if isinstance(__builtins__, dict) else getattr(__builtins__, name)
    for name in ("string", "math", "random", "whrandom", "same_type", "test", "DateTime"):
        builtins.pop(name, None)  # modules and odd helpers stay out of task data
    builtins["__import__"] = _no_import
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
        "date": date,
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
