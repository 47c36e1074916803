"""The catalogue's pick lists for form fields marked ``"x-catalogue": name``.

Each resolver returns the entries a field may hold, named in English and Chinese, with
what helps the choice (a part's free stock, a technician's region and open visits). The
web layer shows them as the field's options; the engine refuses any other value on
submit (:func:`engine.forms.catalogue_errors`).
"""

from __future__ import annotations

import json
from typing import Any

from babel import Locale
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.forms import Choice, catalogue

from .demo import DATA_DIR, catalogue_texts
from .diagnosis import Rule
from .dispatch import Technician, _load
from .knowledge import Article
from .parts import Part, Stock
from .warranty import Model, ProductLine, product_line_of


def _data(name: str) -> dict[str, Any]:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


@catalogue("parts")
def parts(session: Session, product_line: str | None = None, model: str | None = None) -> list[Choice]:
    """Spare parts (of the product line when known), each with its free stock over all warehouses."""
    line = product_line or product_line_of(session, model)
    free = dict(session.execute(select(Stock.sku, func.sum(Stock.available)).group_by(Stock.sku)).all())
    query = select(Part).order_by(Part.sku)
    if line:
        query = query.where(Part.product_line == line)
    return [Choice(p.sku, f"{p.sku} {p.name}", f"{p.sku} {p.name_zh or p.name}",
                   f"{int(free.get(p.sku) or 0)} in stock", f"库存 {int(free.get(p.sku) or 0)}")
            for p in session.scalars(query)]


@catalogue("models")
def models(session: Session, product_line: str | None = None) -> list[Choice]:
    """Product models (of one product line when given)."""
    zh = catalogue_texts(language="zh")
    query = select(Model, ProductLine.name).join(ProductLine, ProductLine.code == Model.product_line)
    if product_line:
        query = query.where(Model.product_line == product_line)
    return [Choice(m.code, f"{m.code} {m.name}", f"{m.code} {zh.get(m.name, m.name)}", line, zh.get(line, ""))
            for m, line in session.execute(query.order_by(Model.code))]


@catalogue("symptoms")
def symptoms(session: Session, product_line: str | None = None, model: str | None = None) -> list[Choice]:
    """Symptom codes of the diagnosis rule base (those the product line's rules know, when it is known)."""
    names = _data("diagnosis_rules.json").get("symptoms", {})
    line = product_line or product_line_of(session, model)
    if line:
        used: set[str] = set()
        for codes in session.scalars(select(Rule.symptoms).where(Rule.product_line.in_([line, "*"]))):
            used.update(codes)
        names = {code: text for code, text in names.items() if code in used}
    return [Choice(code, text.get("en", code), text.get("zh", "")) for code, text in names.items()]


@catalogue("skills")
def skills(session: Session) -> list[Choice]:
    """Technician skills."""
    return [Choice(s["code"], s["name"], s.get("name_zh", "")) for s in _data("technicians.json").get("skills", [])]


#: "n open visits" in English by its CLDR plural category (Chinese, with one form, is said in place)
OPEN_VISITS = {"one": "{n} open visit", "other": "{n} open visits"}


def open_visits(count: int) -> str:
    """Say how many open visits a technician has, in English, in the plural form ``count`` takes."""
    return OPEN_VISITS[Locale("en").plural_form(count)].format(n=count)


@catalogue("technicians")
def technicians(session: Session, skill: str | None = None, region: str | None = None) -> list[Choice]:
    """Active technicians (with the skill and in the region when given), each with region and open visits."""
    zh = catalogue_texts(language="zh")
    en = catalogue_texts(language="en")
    found = [t for t in session.scalars(select(Technician).where(Technician.active).order_by(Technician.username))
             if (not skill or skill in t.skills) and (not region or t.region == region)]
    load = _load(session, [t.username for t in found]) if found else {}
    return [Choice(t.username, f"{t.name} ({t.username})", f"{zh.get(t.name, t.name)} ({t.username})",
                   f"{en.get(t.region, t.region)}, {open_visits(load[t.username])}",
                   f"{zh.get(t.region, t.region)}，{load[t.username]} 个未完成上门")
            for t in found]


@catalogue("knowledge")
def knowledge(session: Session, product_line: str | None = None) -> list[Choice]:
    """Published knowledge articles (of the product line and the general ones, when it is known)."""
    query = select(Article).where(Article.status == "published", Article.code.is_not(None)).order_by(Article.code)
    if product_line:
        query = query.where(Article.product_line.is_(None) | (Article.product_line == product_line))
    return [Choice(str(a.code), f"{a.code} {a.title}") for a in session.scalars(query)]
