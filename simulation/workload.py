"""A synthetic after-sales workload: who calls about what, and what staff and customers answer.

Drawn from ``processes/data/simulation.json`` (every figure an assumption with its source),
against the deployed catalogue (models, diagnosis rules): arrival times weighted by
weekday and hour, channel, fault-category and product-line mixes, customers and their
units, and — per ticket, from its own random stream so that a seed gives the same
history — the decisions staff record in each task's form and the customers' replies.
Durations are log-normal (median and 90th percentile). Forms are filled for their JSON
Schema: known tasks with scenario choices, any other with values the schema accepts.
"""

from __future__ import annotations

import json
import math
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.demo import catalogue_texts
from handlers.diagnosis import Rule
from handlers.values import business_timezone
from handlers.warranty import Model

PARAMETERS = Path(__file__).resolve().parent.parent / "processes" / "data" / "simulation.json"
Z90 = 1.2815515655446004  # the standard normal's 90th percentile
SURNAMES = ("Li", "Wang", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu", "Xu", "Sun", "Hu", "Zhu",
            "Gao", "Lin", "He", "Guo", "Ma", "Luo")
GIVEN = ("Wei", "Fang", "Na", "Min", "Jing", "Lei", "Qiang", "Yan", "Jie", "Tao", "Ming", "Chao", "Xiu", "Hua",
         "Ping", "Hong", "Yu", "Bo", "Ying", "Jun")
#: the same names in characters: a Chinese-speaking customer writes their name as 郭伟, not "Guo Wei"
HANZI = dict(zip(SURNAMES + GIVEN, "李王张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗伟芳娜敏静磊强燕杰涛明超秀华平红宇波英军",
                 strict=True))


def load_parameters(path: Path | None = None) -> dict[str, Any]:
    """Return the simulation parameters (``processes/data/simulation.json`` unless told)."""
    return json.loads((path or PARAMETERS).read_text(encoding="utf-8"))


class Draw:
    """Seeded random draws in the shapes the parameters use."""

    def __init__(self, seed: int | str) -> None:
        self.rng = random.Random(seed)

    def pick(self, weights: dict[str, Any]) -> str:
        """Return a key drawn by its weight (an ``about`` entry is a comment)."""
        keys = [k for k, v in weights.items() if k != "about" and isinstance(v, int | float)]
        return self.rng.choices(keys, weights=[float(weights[k]) for k in keys])[0]

    def chance(self, p: float) -> bool:
        """Return True with probability ``p``."""
        return self.rng.random() < p

    def lognormal(self, spec: dict[str, float]) -> float:
        """Return a log-normal draw with the given ``median`` and ``p90``."""
        median, p90 = float(spec["median"]), float(spec["p90"])
        sigma = math.log(p90 / median) / Z90 if p90 > median > 0 else 0.0
        return median * math.exp(self.rng.gauss(0.0, sigma)) if median > 0 else 0.0

    def one_of(self, items: list[Any] | tuple[Any, ...]) -> Any:
        """Return one of ``items``."""
        return self.rng.choice(items)


# --- arrivals ---------------------------------------------------------------------------------
def arrival_times(params: dict[str, Any], draw: Draw, first_day: date, days: int, count: int) -> list[datetime]:
    """Return ``count`` request times over ``days`` days, weekday- and business-hour-heavy, in order."""
    arrivals = params["arrivals"]
    weekday, hour = arrivals["weekday_weights"], arrivals["hour_weights"]
    day_list = [first_day + timedelta(days=i) for i in range(days)]
    picked_days = draw.rng.choices(day_list, weights=[weekday[d.weekday()] for d in day_list], k=count)
    zone = business_timezone()
    times = []
    for day in picked_days:
        h = draw.rng.choices(range(24), weights=hour)[0]
        local = datetime(day.year, day.month, day.day, h, tzinfo=zone) + timedelta(seconds=draw.rng.randrange(3600))
        times.append(local.astimezone(UTC))
    return sorted(times)


# --- tickets ----------------------------------------------------------------------------------
@dataclass
class Catalogue:
    """The deployed models and diagnosis rules, by product line."""

    models: dict[str, list[str]]
    rules: dict[str, list[Rule]]

    @classmethod
    def load(cls, session: Session) -> Catalogue:
        """Read models and rules from the handlers' tables."""
        models: dict[str, list[str]] = {}
        for code, line in session.execute(select(Model.code, Model.product_line).order_by(Model.code)):
            models.setdefault(line, []).append(code)
        rules: dict[str, list[Rule]] = {}
        for rule in session.scalars(select(Rule).order_by(Rule.code)):
            rules.setdefault(rule.product_line, []).append(rule)
        return cls(models, rules)


@dataclass
class Profile:
    """One customer request as the simulation plays it: who, what, and the choices along the way."""

    number: int
    channel: str
    category: str
    line: str
    rule: Rule | None
    customer: dict[str, Any]
    product: dict[str, Any]
    urgency: str
    impact: str
    draw: Draw
    rounds: int = 0
    repeat_of: Profile | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def parts(self) -> list[dict[str, Any]]:
        """Return the parts a repair of this fault needs."""
        return [{"sku": sku, "quantity": 1} for sku in (self.rule.parts if self.rule else [])]

    def intake(self) -> dict[str, Any]:
        """Return the request as the registration form takes it."""
        symptoms = list(self.rule.symptoms) if self.rule is not None and self.category != "complaint" else []
        text, expectation = (self._chinese_description() if self.customer.get("language") == "zh"
                             else self._english_description())
        return {"channel": self.channel, "customer": self.customer, "product": self.product,
                "fault": {"category": self.category, "description": text, "symptoms": symptoms},
                "expectation": expectation, "urgency": self.urgency, "impact": self.impact}

    def _english_description(self) -> tuple[str, str]:
        cause = self.rule.cause if self.rule is not None else "the unit"
        english = [k for k in (self.rule.keywords if self.rule else []) if k.isascii()]
        description = {"usage": f"How do I deal with this: {cause.lower()}?",
                       "software": f"Settings or firmware problem, maybe: {cause.lower()}",
                       "hardware": f"The unit is faulty: {', '.join(english[:3]) or cause}",
                       "complaint": "I am unhappy with how my last repair was handled and nobody called back"}
        text = description[self.category] if self.repeat_of is None else "Any news about my ticket? Still waiting."
        return text, "Fixed soon"

    def _chinese_description(self) -> tuple[str, str]:
        """What a Chinese-speaking customer writes: the rule's Chinese keywords, in their words."""
        words = "，".join([k for k in (self.rule.keywords if self.rule else []) if not k.isascii()][:3]) or "机器"
        description = {"usage": f"请问这个怎么处理：{words}？",
                       "software": f"可能是设置或固件问题：{words}",
                       "hardware": f"机器坏了：{words}",
                       "complaint": "上次维修处理得不好，说好回电话也没人打，我很不满意"}
        text = description[self.category] if self.repeat_of is None else "我的工单有进展吗？还在等。"
        return text, "尽快修好"


def new_profile(params: dict[str, Any], catalogue: Catalogue, seed: int, number: int, today: date) -> Profile:
    """Draw one request: channel, fault, product line, customer and unit."""
    draw = Draw(f"{seed}:{number}")
    people = params["customers"]
    line = draw.pick({k: v for k, v in params["product_lines"].items() if k in catalogue.models})
    category = draw.pick(params["fault_categories"])
    rules = catalogue.rules.get(line, [])
    fitting = [r for r in rules if (bool(r.parts) if category == "hardware" else r.remote_fixable)]
    rule = draw.one_of(fitting or rules) if rules else None
    surname, given = draw.one_of(SURNAMES), draw.one_of(GIVEN)
    model = draw.one_of(catalogue.models[line])
    age = draw.lognormal(people["purchase_age_days"])
    customer = {"name": f"{surname} {given}", "phone": f"+86 13{draw.rng.randrange(10**9):09d}",
                "email": f"{given.lower()}.{surname.lower()}{number}@example.com",
                "tier": "vip" if draw.chance(people["vip_share"]) else "normal",
                "language": draw.pick(people["languages"]), "preferred_channel": draw.pick(people["preferred_channel"]),
                "region": draw.pick(people["regions"])}
    if customer["language"] == "zh":
        customer["name"] = HANZI[surname] + HANZI[given]
    product = {"model": model, "serial_number": f"{model.replace('-', '')}-{number:06d}",
               "purchase_date": (today - timedelta(days=int(age))).isoformat(),
               "proof_of_purchase": f"INV-{number:06d}"}
    return Profile(number, draw.pick(params["channels"]), category, line, rule, customer, product,
                   draw.pick(params["urgency"]), draw.pick(params["impact"]), draw)


def repeat_profile(params: dict[str, Any], first: Profile, number: int) -> Profile:
    """Return the same customer about the same unit, getting in touch again on some channel."""
    draw = Draw(f"repeat:{first.number}:{number}")
    return Profile(number, draw.pick(params["channels"]), first.category, first.line, first.rule, first.customer,
                   first.product, first.urgency, first.impact, draw, repeat_of=first)


# --- what staff write in the forms -------------------------------------------------------------
def honour_rules(schema: dict[str, Any], value: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Make a sampled value keep the schema's ``after`` rules (an end two hours after its start) and its
    ``not_future`` rules (a date three days before ``now``: the sampler's dates lie ahead)."""
    for rule in schema.get("x-rules", []):
        kind = rule.get("rule")
        if kind not in ("after", "not_future"):
            continue
        *where, last = str(rule.get("field", "")).split(".")
        holder = value
        for key in where:
            holder = holder.get(key) if isinstance(holder, dict) else None
        if not isinstance(holder, dict):
            continue
        if kind == "not_future":
            if isinstance(holder.get(last), str):
                past = now - timedelta(days=3)
                holder[last] = past.date().isoformat() if len(holder[last]) == 10 else past.isoformat()
            continue
        *_, than = str(rule.get("than", "")).split(".")
        if isinstance(holder.get(than), str):
            try:
                start = datetime.fromisoformat(holder[than].replace("Z", "+00:00"))
            except ValueError:
                continue
            holder[last] = (start + timedelta(hours=2)).isoformat()
    return value


def sample_value(schema: dict[str, Any], draw: Draw, now: datetime) -> Any:
    """Return a value ``schema`` accepts (required fields only, the first ``anyOf`` branch)."""
    if "const" in schema:
        return schema["const"]
    if "oneOf" in schema and all("const" in o for o in schema["oneOf"]):
        return draw.one_of([o["const"] for o in schema["oneOf"]])
    if "enum" in schema:
        return draw.one_of(schema["enum"])
    kind = schema.get("type", "object")
    if kind == "object":
        return _sample_object(schema, draw, now)
    if kind == "array":
        return [sample_value(schema.get("items", {}), draw, now) for _ in range(int(schema.get("minItems", 0)))]
    if kind == "boolean":
        return draw.chance(0.5)
    if kind in ("integer", "number"):
        low, high = float(schema.get("minimum", 0)), float(schema.get("maximum", 100))
        step = float(schema.get("multipleOf", 1))
        value = low + step * math.floor((high - low) / step / 2)
        return int(value) if kind == "integer" else value
    return _sample_text(schema, now)


def _sample_object(schema: dict[str, Any], draw: Draw, now: datetime) -> dict[str, Any]:
    """Fill the required fields, then those each ``if``/``then`` (top level or in ``allOf``) asks for
    when its ``if`` holds for what was filled, dropping fields a ``then`` forbids."""
    props = schema.get("properties", {})
    required = list(schema.get("required", []))
    for extra in schema.get("anyOf", [])[:1]:
        required += [r for r in extra.get("required", []) if r not in required]
    value = {name: sample_value(props[name], draw, now) for name in required if name in props}
    rules = [schema, *schema.get("allOf", [])]
    for rule in rules:
        if "if" not in rule or not Draft202012Validator(rule["if"]).is_valid(value):
            continue
        then = rule.get("then", {})
        stricter = then.get("properties", {})
        for name in then.get("required", []):
            if name in props:
                value[name] = sample_value({**props[name], **stricter.get(name, {})}, draw, now)
        for name, rule_of_name in stricter.items():
            if rule_of_name.get("not") == {}:
                value.pop(name, None)
    return value


def _sample_text(schema: dict[str, Any], now: datetime) -> str:
    fmt = schema.get("format")
    if fmt == "date":
        return (now + timedelta(days=3)).date().isoformat()
    if fmt == "date-time":
        return now.isoformat()
    if fmt == "email":
        return "staff@example.com"
    low, high = int(schema.get("minLength", 0)), int(schema.get("maxLength", 200))
    candidates = ["Handled as agreed with the customer", "+86 138 0000 0000", "handled", "SIM-1", "sim_1"]
    for text in candidates:
        text = (text + "." * max(0, low - len(text)))[:high]
        if "pattern" not in schema or re.search(schema["pattern"], text):
            return text
    return candidates[0][:high]


class Answers:
    """The scenario's choices for the tasks it knows; any other task gets ``sample_value``."""

    def __init__(self, params: dict[str, Any]) -> None:
        self.outcomes = params["outcomes"]

    def form(self, element_id: str, schema: dict[str, Any], profile: Profile | None, now: datetime) -> dict[str, Any]:
        """Return the form data for task ``element_id`` of ``profile``'s ticket."""
        draw = profile.draw if profile is not None else Draw(element_id)
        base = honour_rules(schema, sample_value(schema, draw, now), now)
        choose = getattr(self, element_id, None)
        if choose is None or profile is None:
            return base
        chosen = choose(profile, draw, now)
        props = schema.get("properties", {})
        merged = {**base, **{k: v for k, v in chosen.items() if k in props}}
        return {k: v for k, v in merged.items() if v is not None}  # None: staff leave the field empty

    def register_request(self, p: Profile, d: Draw, now: datetime) -> dict[str, Any]:
        return p.intake()

    def respond_to_customer(self, p: Profile, d: Draw, now: datetime) -> dict[str, Any]:
        p.rounds += 1
        share = self.outcomes["resolved_at_first_contact"].get(p.category, 0.0)
        solved = d.chance(share) if p.rounds == 1 else d.chance(0.7)
        # the answer is sent to the customer: in their language (the catalogue's Chinese of the rule's action)
        zh = p.customer.get("language") == "zh"
        if p.rule is not None and solved:
            answer = catalogue_texts().get(p.rule.action, p.rule.action) if zh else p.rule.action
        else:
            answer = "我们正在处理您的问题，稍后给您答复。" if zh else "We are looking into it and will come back."
        return {"resolved_now": solved, "answer": answer[:2000]}

    def handle_complaint(self, p: Profile, d: Draw, now: datetime) -> dict[str, Any]:
        settled = d.chance(self.outcomes["complaint_settled"])
        return {"outcome": "settled" if settled else "needs_service", "customer_contacted": True,
                "remedy": "Apologised and agreed a priority visit" if not settled else "Apologised; goodwill voucher"}

    def assist_remotely(self, p: Profile, d: Draw, now: datetime) -> dict[str, Any]:
        if d.chance(self.outcomes["solved_remotely"].get(p.category, 0.0)):
            outcome = "resolved"
        else:
            outcome = "complex" if d.chance(self.outcomes["remote_too_complex"]) else "unresolved"
        return {"outcome": outcome, "finding": (p.rule.action if p.rule else "Guided the customer")[:2000]}

    def inspect_on_site(self, p: Profile, d: Draw, now: datetime) -> dict[str, Any]:
        return {"cause": (p.rule.cause if p.rule else "Worn part")[:1000], "repairable": True,
                "parts_needed": p.parts, "labour_hours": 1.5}

    def propose_solution(self, p: Profile, d: Draw, now: datetime) -> dict[str, Any]:
        solution = d.pick(self.outcomes["solution"])
        return {"solution": solution, "route": d.pick(self.outcomes["route"]),
                "parts": p.parts if solution == "repair" else [], "labour_hours": 1.5 if solution == "repair" else 0.5,
                "goodwill": False, "warranty_exception": False, "concession_kind": None, "concession_value": None,
                "justification": "Customer has been waiting long"}

    def review_quote(self, p: Profile, d: Draw, now: datetime) -> dict[str, Any]:
        decision = d.pick(self.outcomes["quote_approval"])
        return {"decision": decision, "comment": "Checked against the price list"}

    def correct_parts_list(self, p: Profile, d: Draw, now: datetime) -> dict[str, Any]:
        return {"parts": [], "note": "Part not in the catalogue; repair without it"}

    def chase_backorder(self, p: Profile, d: Draw, now: datetime) -> dict[str, Any]:
        if d.chance(self.outcomes["chase_escalates"]):
            return {"action": "escalate", "note": "Supplier cannot give a date"}
        return {"action": "new_date", "new_eta": (now + timedelta(days=3)).date().isoformat(),
                "note": "Supplier promised a new date"}

    def repair_device(self, p: Profile, d: Draw, now: datetime) -> dict[str, Any]:
        p.notes["repairs"] = p.notes.get("repairs", 0) + 1  # parts go in at the first attempt only
        used = p.parts if p.notes["repairs"] == 1 else []
        # a part the quote did not reserve (the list was corrected) is confirmed for the warehouse to reconcile
        return {"work_done": (p.rule.action if p.rule else "Repaired")[:2000], "parts_used": used,
                "unreserved_parts_confirmed": bool(used), "time_spent_minutes": 60}

    def inspect_repair(self, p: Profile, d: Draw, now: datetime) -> dict[str, Any]:
        passed = d.chance(self.outcomes["repair_passes_inspection"]["share"])
        return {"functional_test": "pass" if passed else "fail", "safety_check": "pass", "passed": passed,
                "findings": "All tests passed" if passed else "Fault comes back under load"}

    def decide_after_failed_inspections(self, p: Profile, d: Draw, now: datetime) -> dict[str, Any]:
        return {"decision": "replace", "reason": "Two failed repairs: replace the unit"}

    def record_confirmation(self, p: Profile, d: Draw, now: datetime) -> dict[str, Any]:
        return {"solved": d.chance(self.outcomes["confirmed_solved"]), "via": "phone"}

    def follow_up_customer(self, p: Profile, d: Draw, now: datetime) -> dict[str, Any]:
        return {"reached": True, "satisfaction": d.pick({"satisfied": 0.8, "neutral": 0.15, "unsatisfied": 0.05})}

    def review_ticket_quality(self, p: Profile, d: Draw, now: datetime) -> dict[str, Any]:
        scores = {k: d.pick({"5": 0.45, "4": 0.4, "3": 0.12, "2": 0.03})
                  for k in ("response", "diagnosis", "communication", "documentation", "overall")}
        return {k: int(v) for k, v in scores.items()}

    def assign_technician_manually(self, p: Profile, d: Draw, now: datetime) -> dict[str, Any]:
        start = now + timedelta(days=1)
        return {"technician": "tech.qian", "name": "Qian Jun", "reason": "Covers the region this week",
                "appointment": {"start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat()}}

    def check_received_device(self, p: Profile, d: Draw, now: datetime) -> dict[str, Any]:
        return {"serial_matches": True, "condition": "good"}
