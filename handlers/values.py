"""Checking and converting the values handlers receive: money, dates, counts, text.

A value that breaks its declared type is a modelling bug in the process (the task passed
the wrong expression), not a business outcome: it raises :class:`HandlerError` naming
the parameter, before the handler writes anything.
"""

from __future__ import annotations

import os
from datetime import date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import BigInteger, types

from engine.errors import ConfigError, HandlerError

CENT = Decimal("0.01")


class Money(types.TypeDecorator[Decimal]):
    """An amount of money stored exactly, as whole cents, on every backend."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Any) -> int | None:
        if value is None:
            return None
        return int((to_money(value, "amount") / CENT).to_integral_value())

    def process_result_value(self, value: int | None, dialect: Any) -> Decimal | None:
        return None if value is None else (Decimal(value) * CENT).quantize(CENT)


def invalid(field: str, message: str) -> HandlerError:
    """Return the :class:`HandlerError` for a bad parameter (or part of one) ``field``."""
    return HandlerError(message, field=field)


def to_money(value: Any, field: str) -> Decimal:
    """Return ``value`` as a Decimal rounded half-up to cents."""
    if isinstance(value, bool):
        raise HandlerError(f"{field} must be an amount, got {value!r}", field=field)
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise HandlerError(f"{field} must be an amount, got {value!r}", field=field) from None
    if not amount.is_finite():
        raise HandlerError(f"{field} must be a finite amount, got {value!r}", field=field)
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(amount: Decimal) -> str:
    """Return an amount as a string with two decimals (``"125.50"``)."""
    return str(amount.quantize(CENT, rounding=ROUND_HALF_UP))


def non_negative_decimal(value: Any, field: str) -> Decimal:
    """Return ``value`` as a Decimal that is zero or more."""
    if isinstance(value, bool) or value is None:
        raise HandlerError(f"{field} must be a number, got {value!r}", field=field)
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise HandlerError(f"{field} must be a number, got {value!r}", field=field) from None
    if not number.is_finite() or number < 0:
        raise HandlerError(f"{field} must be zero or more, got {value!r}", field=field)
    return number


def positive_int(value: Any, field: str) -> int:
    """Return ``value`` if it is a whole number of at least one."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise HandlerError(f"{field} must be a whole number of at least 1, got {value!r}", field=field)
    return value


def required_text(value: Any, field: str, max_length: int = 200) -> str:
    """Return ``value`` stripped, refusing anything but non-empty text of bounded length."""
    if not isinstance(value, str) or not value.strip():
        raise HandlerError(f"{field} must be non-empty text, got {value!r}", field=field)
    if len(value.strip()) > max_length:
        raise HandlerError(f"{field} is longer than {max_length} characters", field=field)
    return value.strip()


def one_of(value: Any, allowed: tuple[str, ...], field: str) -> str:
    """Return ``value`` if it is one of ``allowed``."""
    if value not in allowed:
        raise HandlerError(f"{field} must be one of {', '.join(allowed)}; got {value!r}", field=field)
    return str(value)


def mapping(value: Any, field: str) -> dict[str, Any]:
    """Return ``value`` if it is a JSON object (a dict)."""
    if not isinstance(value, dict):
        raise HandlerError(f"{field} must be an object, got {type(value).__name__}", field=field)
    return value


def parse_date(value: Any, field: str) -> date:
    """Return an ISO ``YYYY-MM-DD`` string (or a date) as a :class:`date`."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise HandlerError(f"{field} must be a date YYYY-MM-DD, got {value!r}", field=field) from None


def business_timezone() -> tzinfo:
    """Return the service organisation's time zone (``AFTERSALES_TIMEZONE``, Asia/Shanghai)."""
    name = os.environ.get("AFTERSALES_TIMEZONE", "Asia/Shanghai")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"AFTERSALES_TIMEZONE {name!r} is not a known time zone") from exc


def local_date(moment: datetime) -> date:
    """Return the calendar day of ``moment`` in the business time zone."""
    return moment.astimezone(business_timezone()).date()
