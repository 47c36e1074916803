"""Sample data for handler tests: a customer, a product and a fault as intake records them, and
the deployable bundle that carries the real templates."""

from __future__ import annotations

from pathlib import Path

from engine.bundle import Bundle
from handlers.demo import DATA_DIR

HERE = Path(__file__).parent
TEMPLATES = DATA_DIR.parent / "templates"


def journey_bundle() -> Bundle:
    """The test process plus every template of ``processes/templates`` under ``templates/``."""
    files = {name: (HERE / "fixtures" / name).read_bytes() for name in ("service_journey.bpmn", "messages.json")}
    for path in sorted(TEMPLATES.rglob("*")):
        if path.is_file():
            files[f"templates/{path.relative_to(TEMPLATES).as_posix()}"] = path.read_bytes()
    return Bundle("service_journey", files)


CUSTOMER = {"name": "Li Wei", "phone": "+86 138 0013 8000", "email": "li.wei@example.cn", "tier": "normal",
            "language": "zh", "preferred_channel": "sms"}
PRODUCT = {"model": "WM-F80", "serial_number": "WMF80-2501-000123", "purchase_date": "2025-06-18",
           "proof_of_purchase": "JD-2025061812345"}
FAULT = {"description": "Water stays in the drum, display shows E21", "symptoms": ["not_draining", "error_code"]}
