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
