"""Read models: what the staff and customer web pages read (plain SQLAlchemy, no Flask).

The tasklist pages through ``work_item`` with indexed filters; the task and ticket pages
read one instance's data from a private, read-only copy of its stored workflow and its
audit trail. Personal data is masked here, before any page sees it, for roles that may
not read it. Handler tables (tickets, customers, products, the notification outbox, SLA
clocks) are read through the handler modules' models and query functions; the tasklist
builds on the engine's own work-item query (:func:`engine.queries.tasks_in_scope`).

May import: ``engine`` and ``handlers``. Never ``web``, ``cli`` or ``simulation``
(import-linter checks, see pyproject.toml); nothing below it imports it.
"""

from __future__ import annotations

from .customer import CUSTOMER_MESSAGES, PublicStatus, contact_matches, public_status
from .search import Hit, open_duplicate, search_tickets
from .tasklist import (
    TasklistPage,
    Worklist,
    check_assignee,
    list_worklist,
    task_role,
    tasklist_page,
    users_with_role,
    worklist_choices,
)
from .tickets import (
    Step,
    TaskDetail,
    TicketContext,
    TicketDetail,
    bundle_texts,
    business_key_of,
    deployed_form,
    deployed_texts,
    find_ticket,
    instance_data,
    mask,
    next_task_for,
    notifications_for,
    quote_document,
    reveal_personal,
    staff_quote_document,
    start_and_register,
    survey_ticket,
    task_detail,
    ticket_context,
    ticket_detail,
)

__all__ = [
    "CUSTOMER_MESSAGES",
    "Hit",
    "PublicStatus",
    "Step",
    "TaskDetail",
    "TasklistPage",
    "TicketContext",
    "TicketDetail",
    "Worklist",
    "bundle_texts", "business_key_of", "deployed_texts", "deployed_form", "start_and_register",
    "check_assignee",
    "contact_matches",
    "find_ticket",
    "instance_data",
    "list_worklist",
    "mask",
    "next_task_for",
    "notifications_for",
    "open_duplicate", "quote_document", "staff_quote_document", "survey_ticket",
    "public_status",
    "reveal_personal",
    "search_tickets",
    "task_detail",
    "task_role",
    "tasklist_page",
    "ticket_context",
    "ticket_detail",
    "users_with_role",
    "worklist_choices",
]
