"""Handlers registered only for the engine's tests (operators ``test.*``)."""

from __future__ import annotations

from engine.registry import BusinessError, HandlerContext, handler

CALLS: list[dict] = []
FAILURES: dict[str, int] = {}


@handler("test.echo")
def echo(value: int) -> dict:
    """Return the value it was given."""
    CALLS.append({"op": "echo", "value": value})
    if FAILURES.get("echo", 0) > 0:
        FAILURES["echo"] -= 1
        raise ConnectionError("device cloud unreachable")
    return {"value": value}


@handler("test.check_stock")
def check_stock(ctx: HandlerContext, sku: str, quantity: int = 1) -> dict:
    """Refuse SKUs starting with OUT as out of stock (a business error)."""
    if sku.startswith("OUT"):
        raise BusinessError("OUT_OF_STOCK", f"{sku} is out of stock", {"sku": sku})
    return {"sku": sku, "quantity": quantity, "task": ctx.element_id}


@handler("test.flaky")
def flaky(ctx: HandlerContext, key: str) -> dict:
    """Fail while FAILURES[key] > 0, recording every attempt."""
    CALLS.append({"op": "flaky", "key": key, "attempt": ctx.attempt})
    if FAILURES.get(key, 0) > 0:
        FAILURES[key] -= 1
        raise ConnectionError(f"upstream for {key} unreachable")
    return {"key": key, "attempt": ctx.attempt}


@handler("test.write_then_fail")
def write_then_fail(ctx: HandlerContext, name: str) -> dict:
    """Create a role, then fail: the savepoint must undo the write."""
    from engine.identity import ensure_role

    ensure_role(ctx.session, name)
    raise RuntimeError("failed after writing")


@handler("test.non_json")
def non_json(value: int) -> dict:
    """Return something that is not JSON."""
    return {"value": {value}}


@handler("test.business")
def business(code: str) -> dict:
    """Raise the business error ``code``."""
    raise BusinessError(code, f"business says {code}", {"hint": "call the customer"})
