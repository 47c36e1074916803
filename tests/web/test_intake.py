"""Agents register requests from any channel; a repeat contact is flagged before it is sent."""

from __future__ import annotations

import pytest

from tests.web.conftest import STAFF_ROLES

REQUEST = {"channel": "hotline", "customer.name": "Wang Fang", "customer.phone": "139 0000 1111",
           "customer.tier": "vip", "customer.language": "zh", "product.model": "TV-55U8",
           "product.serial_number": "TV55-000123", "product.purchase_date": "2025-11-11",
           "fault.description": "The picture flickers after ten minutes", "fault.symptoms": "flickering",
           "expectation": "Repair at home"}


@pytest.fixture
def intake_ready(deploy_fixture):
    deploy_fixture("simple")  # stands in for after_sales (INTAKE_PROCESS in the test app)


def instances(services):
    from sqlalchemy import select

    from engine.models import Instance

    with services.db.transaction(write=False) as s:
        return list(s.scalars(select(Instance)))


def test_the_form_offers_channels_models_and_symptoms(signed_in):
    html = signed_in("agent").get("/requests/new?channel=walk_in").get_data(as_text=True)
    assert 'name="channel" value="walk_in" checked' in html
    assert 'value="TV-55U8"' in html and 'name="fault.symptoms" value="flickering"' in html
    assert 'name="customer.tier"' in html and "required" in html


def test_an_agent_registers_a_request_and_the_process_starts_with_the_intake_data(signed_in, services,
                                                                                   intake_ready):
    b = signed_in("agent")
    b.get("/requests/new")
    response = b.post("/requests/new", REQUEST)
    assert response.status_code == 302
    [instance] = instances(services)
    from readmodels import instance_data

    with services.db.transaction(write=False) as s:
        data = instance_data(s, services.runtime.specs, instance)
    assert data["customer"] == {"name": "Wang Fang", "phone": "139 0000 1111", "tier": "vip", "language": "zh"}
    assert data["product"]["model"] == "TV-55U8" and data["fault"]["symptoms"] == ["flickering"]
    assert (data["channel"], data["customer_tier"], data["expectation"]) == ("hotline", "vip", "Repair at home")
    assert instance.started_by == "agent"
    # the agent lands on the first task of the new ticket (the fixture's agent lane)
    assert response.headers["Location"].startswith("/tasks/")


def test_missing_and_wrong_fields_are_shown_with_the_entered_values(signed_in, services, intake_ready):
    b = signed_in("agent")
    b.get("/requests/new")
    bad = dict(REQUEST, **{"customer.phone": "", "product.model": "NOPE", "fault.description": "bad"})
    response = b.post("/requests/new", bad)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="f-product-model-error"' in html and 'id="f-fault-description-error"' in html
    assert 'value="Wang Fang"' in html and ">bad</textarea>" in html
    assert instances(services) == []


def test_a_customer_needs_a_phone_or_an_email(signed_in, services, intake_ready):
    b = signed_in("agent")
    b.get("/requests/new")
    response = b.post("/requests/new", dict(REQUEST, **{"customer.phone": ""}))
    assert response.status_code == 422 and instances(services) == []


def test_a_repeat_contact_is_flagged_and_can_be_sent_on(signed_in, services, intake_ready, database):
    from engine import clock
    from handlers.ticketing import Customer, Product, Ticket

    now = clock.now()
    with database.transaction() as s:
        customer = Customer(name="Wang Fang", phone="13900001111", email=None, tier="vip", language="zh",
                            preferred_channel="sms", created_at=now, updated_at=now)
        s.add(customer)
        s.flush()
        product = Product(customer_id=customer.id, model="TV-55U8", serial_number="TV55-000123", created_at=now)
        s.add(product)
        s.flush()
        s.add(Ticket(number="AS-20260301-00007", customer_id=customer.id, product_id=product.id,
                     channel="web", fault={}, status="open", instance_id=99, opened_at=now))
    b = signed_in("agent")
    b.get("/requests/new")
    html = b.post("/requests/new", REQUEST).get_data(as_text=True)
    assert "already has an open ticket" in html and "AS-20260301-00007" in html
    assert 'name="confirm_duplicate" value="TV55-000123"' in html
    assert instances(services) == []
    response = b.post("/requests/new", dict(REQUEST, confirm_duplicate="TV55-000123"))
    assert response.status_code == 302 and len(instances(services)) == 1


@pytest.mark.parametrize("role", [r for r in STAFF_ROLES if r not in ("agent", "supervisor")])
def test_only_agents_and_supervisors_register_requests(signed_in, role):
    b = signed_in(role)
    assert b.get("/requests/new").status_code == 403
    assert b.post("/requests/new", REQUEST).status_code == 403


def test_registering_without_csrf_token_is_refused(signed_in, services, intake_ready):
    assert signed_in("agent").post("/requests/new", REQUEST, csrf=False).status_code == 400
    assert instances(services) == []


def test_registering_fails_clearly_when_the_process_is_not_deployed(signed_in):
    b = signed_in("agent")
    b.get("/requests/new")
    response = b.post("/requests/new", REQUEST)
    assert response.status_code == 404 and "is not deployed" in response.get_data(as_text=True)


REGISTER = {"channel": "hotline", "customer.name": "Li Lei", "customer.phone": "+86 138 0013 8000",
            "customer.email": "li.lei@example.com", "customer.tier": "normal", "customer.language": "en",
            "customer.preferred_channel": "email", "customer.region": "east", "product.model": "TV-55U8",
            "product.serial_number": "TV55-000123", "product.purchase_date": "2022-01-10",
            "fault.category": "hardware", "fault.description": "Sound but no picture, black screen",
            "fault.symptoms": "no_picture", "urgency": "medium", "impact": "medium"}


@pytest.fixture
def after_sales(app, deploy_fixture, database):
    """The real process (``processes/``) with its demo catalogue, as the intake process."""
    from handlers import demo
    from tests.conftest import PROCESSES

    if not (PROCESSES / "after_sales.bpmn").is_file():
        pytest.skip("the after-sales process is not in processes/")
    from engine.registry import all_handlers

    all_handlers()
    deploy_fixture(PROCESSES)
    with database.transaction() as s:
        demo.load_catalogue(s, PROCESSES / "data")
    app.config["INTAKE_PROCESS"] = "after_sales"


def test_on_the_real_process_one_submit_registers_and_a_repeat_contact_is_attached(signed_in, services,
                                                                                     after_sales):
    # Given an agent on the process's own register form
    b = signed_in("agent")
    html = b.get("/requests/new").get_data(as_text=True)
    assert 'name="urgency"' in html and 'name="customer.region"' in html
    # When they register the request, then the ticket opens and the agent's next step follows
    response = b.post("/requests/new", REGISTER)
    assert response.status_code == 302 and response.headers["Location"].startswith("/tasks/")
    [first] = instances(services)
    assert first.business_key and first.business_key.startswith("AS-")
    assert "Respond to the customer" in b.get(response.headers["Location"]).get_data(as_text=True)
    # When the same customer calls again about the same unit, the agent is warned first
    html = b.post("/requests/new", dict(REGISTER, channel="chat")).get_data(as_text=True)
    assert first.business_key in html and "already has an open ticket" in html
    assert len(instances(services)) == 1
    # And sending it anyway attaches the contact to the open ticket
    response = b.post("/requests/new", dict(REGISTER, channel="chat", confirm_duplicate="TV55-000123"))
    assert response.headers["Location"] == f"/tickets/{first.business_key}"
    assert len(instances(services)) == 2
