"""Warranty and service-contract entitlement: who pays for a repair.

A model carries two periods counted from the purchase date: ``full_months`` (parts,
labour and call-out covered) and ``parts_months`` (main-parts warranty: parts covered,
labour and call-out paid). The manufacturer's warranty needs a proof of purchase. An
active service contract on the serial number (extended warranty, maintenance contract)
can give better coverage; the best coverage (then the longest) wins. ``expires_on`` is
the last day covered.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db import Base
from engine.registry import BusinessError, HandlerContext, handler

from .ticketing import normalize_serial
from .values import Money, invalid, local_date, parse_date, required_text, to_money

COVERAGE_RANK = {"none": 0, "parts_only": 1, "full": 2}


class ProductLine(Base):
    """A family of products (washing machines, air conditioners …) and the skill it needs."""

    __tablename__ = "warranty_product_line"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    name_zh: Mapped[str] = mapped_column(String(100), default="")
    skill: Mapped[str] = mapped_column(String(32))


class Model(Base):
    """A product model with its warranty periods and list price."""

    __tablename__ = "warranty_model"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    product_line: Mapped[str] = mapped_column(ForeignKey("warranty_product_line.code"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    full_months: Mapped[int]
    parts_months: Mapped[int]
    list_price: Mapped[Decimal] = mapped_column(Money)


class Contract(Base):
    """A service contract on one unit: extended warranty or maintenance agreement."""

    __tablename__ = "warranty_contract"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    serial_number: Mapped[str] = mapped_column(String(64), index=True)
    model: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    coverage: Mapped[str] = mapped_column(String(16))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    holder: Mapped[str] = mapped_column(String(120), default="")


def add_months(day: date, months: int) -> date:
    """Return ``day`` moved by whole months (clamped to the month's last day)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def get_model(session: Session, code: str) -> Model | None:
    """Return the model ``code`` (case-insensitive), if it is in the catalogue."""
    found = session.get(Model, code)
    if found is None and isinstance(code, str):
        found = session.get(Model, code.strip().upper())
    return found


def product_line_of(session: Session, model: str | None) -> str | None:
    """Return the product line of a model code, or None when unknown."""
    found = get_model(session, model) if model else None
    return found.product_line if found else None


#: what Chinese readers see for a contract's kind and coverage in the warranty reason
KIND_ZH = {"extended_warranty": "延保", "maintenance": "维保"}
COVERAGE_ZH = {"full": "全保", "parts_only": "仅保备件", "none": "不保"}


def _manufacturer(found: Model, purchased: date, proof: str, today: date) -> tuple[str, date | None, str, str]:
    """Return coverage, last covered day and the reason in English and in Chinese."""
    if not proof:
        return ("none", None, "no proof of purchase: the manufacturer's warranty cannot be applied",
                "无购买凭证：无法享受厂家保修")
    full_until = add_months(purchased, found.full_months) - timedelta(days=1)  # last day covered
    parts_until = add_months(purchased, max(found.parts_months, found.full_months)) - timedelta(days=1)
    if today <= full_until:
        return "full", full_until, (f"within the {found.full_months}-month warranty of {found.code} "
                                    f"(purchased {purchased.isoformat()})"), \
            f"在 {found.code} 的 {found.full_months} 个月整机保修期内（购买日期 {purchased.isoformat()}）"
    if today <= parts_until:
        return "parts_only", parts_until, (f"full warranty of {found.code} ended {full_until.isoformat()}; the "
                                           f"{found.parts_months}-month main-parts warranty covers parts"), \
            (f"{found.code} 的整机保修已于 {full_until.isoformat()} 到期；"
             f"{found.parts_months} 个月主要部件保修仍覆盖备件")
    return ("none", None, f"warranty of {found.code} ended {parts_until.isoformat()}",
            f"{found.code} 的保修已于 {parts_until.isoformat()} 到期")


def _best_contract(session: Session, serial: str, today: date) -> Contract | None:
    contracts = session.scalars(select(Contract).where(
        Contract.serial_number == serial, Contract.starts_on <= today, Contract.ends_on >= today)).all()
    return max(contracts, key=lambda c: (COVERAGE_RANK[c.coverage], c.ends_on), default=None)


@handler("warranty.check_entitlement")
def check_entitlement(ctx: HandlerContext, model: str, serial_number: str, purchase_date: str,
                      proof_of_purchase: str) -> dict[str, Any]:
    """Work out warranty or contract coverage (full, parts_only, none) and when it expires.

    model: the product's catalogue model code; an unknown model raises UNKNOWN_MODEL
    serial_number: the product's serial number, used to find a service contract
    purchase_date: the purchase date, YYYY-MM-DD, not after today
    proof_of_purchase: the receipt or invoice reference; empty means the manufacturer's warranty does not apply
    """
    code = required_text(model, "model", 64)
    found = get_model(ctx.session, code)
    if found is None:
        raise BusinessError("UNKNOWN_MODEL", f"model {code!r} is not in the catalogue", {"model": code})
    purchased = parse_date(purchase_date, "purchase_date")
    today = local_date(ctx.now)
    if purchased > today:
        raise invalid("purchase_date", f"purchase_date {purchased.isoformat()} is after today "
                                        f"({today.isoformat()})")
    coverage, expires, reason, reason_zh = _manufacturer(found, purchased, str(proof_of_purchase or "").strip(), today)
    contract = _best_contract(ctx.session, normalize_serial(serial_number), today)
    contract_id = None
    if contract is not None and (COVERAGE_RANK[contract.coverage], contract.ends_on) > (
            COVERAGE_RANK[coverage], expires or date.min):
        coverage, expires, contract_id = contract.coverage, contract.ends_on, contract.id
        reason = f"{contract.kind} contract {contract.id} gives {contract.coverage} coverage until " \
                 f"{contract.ends_on.isoformat()}"
        reason_zh = (f"{KIND_ZH.get(contract.kind, contract.kind)}合同 {contract.id} 提供"
                     f"{COVERAGE_ZH.get(contract.coverage, contract.coverage)}，"
                     f"有效期至 {contract.ends_on.isoformat()}")
    return {"coverage": coverage, "expires_on": expires.isoformat() if expires else None,
            "contract": contract_id, "reason": reason, "reason_zh": reason_zh, "in_warranty": coverage != "none"}


def load_product_lines(session: Session, records: list[dict[str, Any]]) -> int:
    """Insert or update product lines and their models from catalogue records."""
    for line in records:
        session.merge(ProductLine(code=line["code"], name=line["name"], name_zh=line.get("name_zh", ""),
                                  skill=line["skill"]))
        session.flush()
        for item in line["models"]:
            session.merge(Model(code=item["code"], product_line=line["code"], name=item["name"],
                                full_months=item["full_months"], parts_months=item["parts_months"],
                                list_price=to_money(item["list_price"], f"{item['code']}.list_price")))
    return len(records)


def load_contracts(session: Session, records: list[dict[str, Any]]) -> int:
    """Insert or update service contracts from catalogue records."""
    for item in records:
        session.merge(Contract(id=item["id"], serial_number=normalize_serial(item["serial_number"]),
                               model=item["model"], kind=item["kind"], coverage=item["coverage"],
                               starts_on=date.fromisoformat(item["starts_on"]),
                               ends_on=date.fromisoformat(item["ends_on"]), holder=item.get("holder", "")))
    return len(records)
