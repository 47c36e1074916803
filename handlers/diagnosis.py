"""First diagnosis from a rule base kept as data (``processes/data/diagnosis_rules.json``).

A rule belongs to a product line (or ``*`` for all) and names symptom codes and keywords;
its confidence is reached when all its symptoms match and at least two keywords appear in
the fault description. Partial evidence scales it down: 60 % from symptoms, 40 % from
keywords. Every candidate says why it was proposed.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db import Base
from engine.registry import HandlerContext, handler

from .values import invalid
from .warranty import product_line_of

SYMPTOM_WEIGHT = 0.6
KEYWORD_WEIGHT = 0.4
KEYWORDS_FOR_FULL_WEIGHT = 2
MAX_CANDIDATES = 5
MIN_CONFIDENCE_FOR_REMOTE = 0.3


class Rule(Base):
    """One diagnosis rule: symptoms and keywords → cause, action, parts, confidence."""

    __tablename__ = "diagnosis_rule"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    product_line: Mapped[str] = mapped_column(String(32), index=True)
    symptoms: Mapped[list[Any]]
    keywords: Mapped[list[Any]]
    cause: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(Text)
    remote_fixable: Mapped[bool]
    parts: Mapped[list[Any]]
    confidence: Mapped[float]


def _symptom_codes(symptoms: Any) -> set[str]:
    if symptoms is None:
        return set()
    if not isinstance(symptoms, list) or not all(isinstance(s, str) for s in symptoms):
        raise invalid("symptoms", f"symptoms must be a list of symptom codes, got {symptoms!r}")
    return {s.strip().lower() for s in symptoms if s.strip()}


def mentions(text: str, keyword: str) -> bool:
    """Tell whether ``text`` mentions ``keyword``: as a whole word when Latin, anywhere when CJK."""
    word = keyword.lower()
    if word.isascii():
        return re.search(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", text.lower()) is not None
    return word in text


def score(rule: Rule, symptoms: set[str], description: str) -> dict[str, Any] | None:
    """Return the candidate ``rule`` yields for the evidence, or None when nothing matches."""
    matched = [s for s in rule.symptoms if s in symptoms]
    words = [k for k in rule.keywords if mentions(description, k)]
    if not matched and not words:
        return None
    symptom_part = len(matched) / len(rule.symptoms) if rule.symptoms else 0.0
    keyword_part = min(1.0, len(words) / KEYWORDS_FOR_FULL_WEIGHT)
    confidence = round(rule.confidence * (SYMPTOM_WEIGHT * symptom_part + KEYWORD_WEIGHT * keyword_part), 2)
    reasons = []
    if matched:
        reasons.append(f"symptom(s) {', '.join(matched)} match {len(matched)} of {len(rule.symptoms)} "
                       f"of rule {rule.code}")
    if words:
        reasons.append("description mentions " + ", ".join(repr(w) for w in words))
    reasons.append(f"rule {rule.code} ({rule.product_line}) has confidence {rule.confidence:.2f} "
                   f"when fully matched")
    return {"rule": rule.code, "cause": rule.cause, "action": rule.action,
            "remote_fixable": rule.remote_fixable, "parts": list(rule.parts), "confidence": confidence,
            "reasons": reasons}


@handler("diagnosis.run_rules")
def run_rules(ctx: HandlerContext, model: str, symptoms: list[str], description: str) -> dict[str, Any]:
    """Rank probable causes from symptoms and description against the diagnosis rule base.

    model: the product's catalogue model code; an unknown model uses only the general rules
    symptoms: symptom codes reported, e.g. ["no_power", "leaking"]; may be empty
    description: the customer's fault description (free text), matched against rule keywords
    """
    given = _symptom_codes(symptoms)
    text = description if isinstance(description, str) else ""
    line = product_line_of(ctx.session, model)
    lines = ["*", line] if line else ["*"]
    rules = ctx.session.scalars(select(Rule).where(Rule.product_line.in_(lines)).order_by(Rule.code)).all()
    candidates = [c for c in (score(r, given, text) for r in rules) if c and c["confidence"] > 0]
    candidates.sort(key=lambda c: (-c["confidence"], c["rule"]))
    candidates = candidates[:MAX_CANDIDATES]
    top = candidates[0] if candidates else None
    if line is None and top is not None:
        top["reasons"].append(f"model {model!r} is not in the catalogue: only general rules were used")
    remote = bool(top and top["remote_fixable"] and top["confidence"] >= MIN_CONFIDENCE_FOR_REMOTE)
    return {"candidates": candidates, "top": top, "confidence": top["confidence"] if top else 0.0,
            "remote_fixable": remote, "needs_onsite": not remote, "parts": top["parts"] if top else [],
            "product_line": line}


def load_rules(session: Session, data: dict[str, Any]) -> int:
    """Insert or update diagnosis rules from catalogue data."""
    known = set(data.get("symptoms", {}))
    for item in data["rules"]:
        unknown = [s for s in item["symptoms"] if known and s not in known]
        if unknown:
            raise ValueError(f"rule {item['code']} uses unknown symptom code(s) {', '.join(unknown)}")
        session.merge(Rule(code=item["code"], product_line=item["product_line"], symptoms=item["symptoms"],
                           keywords=item["keywords"], cause=item["cause"], action=item["action"],
                           remote_fixable=item["remote_fixable"], parts=item["parts"],
                           confidence=float(item["confidence"])))
    return len(data["rules"])
