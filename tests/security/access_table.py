"""Who may use each route of the app: the one table the access matrix and docs/security.md follow.

Every ``METHOD /rule`` of the app's URL map has a row: the roles a signed-in user needs
(:data:`EVERYONE` lets anonymous callers in too) and, for ``/api/v1``, the scope a key
needs. ``tests/security/test_access_matrix.py`` calls every row as anonymous, as each
staff role and (API) with a key of each scope, and fails on a route without a row, a row
without a route, or an answer the row does not predict. The role × capability table of
``docs/security.md`` is :func:`capability_table` of this table (a test compares them);
``python -m tests.security.access_table`` prints it.
"""

from __future__ import annotations

from dataclasses import dataclass

from web.api.auth import ROLE_SCOPES

ROLES = ("agent", "technician", "warehouse", "supervisor", "qa", "process_owner", "auditor", "admin")
STAFF = frozenset(ROLES)
#: no sign-in needed: the customer pages, signing in, health, static files, the API document
EVERYONE = frozenset({*ROLES, "anonymous"})
INTAKE = frozenset({"agent", "supervisor"})
SUPERVISING = frozenset({"supervisor", "admin"})
AUDIT = frozenset({"auditor", "supervisor", "process_owner", "admin"})
OWNERS = frozenset({"process_owner", "admin"})
DEPLOYED_FILES = frozenset({"process_owner", "admin", "auditor", "supervisor"})
OPERATIONS = frozenset({"process_owner", "admin", "supervisor"})
DASHBOARD = frozenset({"supervisor", "process_owner", "admin", "auditor"})
ADMIN = frozenset({"admin"})

#: what a signed-in user may do through ``/api/v1``, by role: the API's own table (a key holds its scopes)
API_ROLE_SCOPES = ROLE_SCOPES


@dataclass(frozen=True)
class Access:
    """Who may call one route: ``roles`` (signed in, or everyone), or a key or role holding ``scope``."""

    capability: str
    roles: frozenset[str] = frozenset()
    scope: str | None = None

    def allows(self, role: str) -> bool:
        """Tell whether a caller of ``role`` (``anonymous``: nobody signed in) gets through."""
        if self.scope is not None:
            return role in API_ROLE_SCOPES and self.scope in API_ROLE_SCOPES[role]
        return role in self.roles


def api(scope: str, capability: str) -> Access:
    """Return the row of an ``/api/v1`` route needing ``scope``."""
    return Access(capability, scope=scope)


SIGN_IN = Access("Sign in, choose the language", EVERYONE)
SELF_SERVICE = Access("Customer self-service (report, status, answers by signed link)", EVERYONE)
PUBLIC = Access("Health check, static files, the API document", EVERYONE)
TASKS = Access("Tasklist and task pages (lane roles decide which tasks)", STAFF)
REASSIGN = Access("Reassign tasks", SUPERVISING)
TICKETS = Access("Ticket pages and search", STAFF)
CUSTOMERS = Access("Customer records: contact (masked by role), products, tickets, history", STAFF)
CUSTOMER_CONTACT = Access("Log calls, message customers, edit their contact details", INTAKE)
TICKET_FILES = Access("Attach and open tickets' files (roles that see customers' data)",
                      frozenset({"agent", "supervisor", "technician", "warehouse"}))
PRIVACY = Access("Privacy requests: export or erase a customer's data", frozenset({"supervisor"}))
MAIL = Access("Read the mail sent to customers", INTAKE)
STOCK_READ = Access("Warehouse: stock, reservations, back-orders, movements, RMA inbox, pick lists, shipments",
                    frozenset({"warehouse", "supervisor", "admin"}))
QA_SAMPLE = Access("QA sample: closed tickets drawn for review, their reviews and scores",
                   frozenset({"qa", "supervisor", "admin"}))
STOCK_WORK = Access("Warehouse: goods-in, count corrections, device receipts, shipping", frozenset({"warehouse"}))
REGISTER = Access("Register requests for customers", INTAKE)
TRAIL = Access("Audit trail, traces, exports", AUDIT)
UNMASK = Access("Unmask one instance's personal data for a while (audited)", SUPERVISING)
DEFINITIONS = Access("Deployed definitions, heat maps, deploying", OWNERS)
FILES = Access("Read deployed files", DEPLOYED_FILES)
OPERATE = Access("Incidents and undelivered messages", OPERATIONS)
KPI = Access("KPI dashboard and exports", DASHBOARD)
KPI_VERIFY = Access("Verify the KPI figures against the audit trail", frozenset({"auditor", "supervisor"}))
PEOPLE = Access("Figures per person (each person also sees their own page)", frozenset({"supervisor"}))
WORKBENCH = Access("Process workbench (drafts, pilots, migrations, what-if)", OWNERS)
KEYS = Access("API keys", ADMIN)
FIELD_DAY = Access("A technician's day of visits; rescheduling their own (supervisors: anyone's)",
                   frozenset({"technician", "supervisor", "admin"}))
FIELD_PHOTO = Access("Photos from the phone's camera on an on-site task", frozenset({"technician", "supervisor"}))
DISPATCH = Access("Dispatch board: move visits between technicians, days and windows", SUPERVISING)
ACCOUNT = Access("Own account: language and password", STAFF)
USERS = Access("Users: create, edit, disable, reset passwords, give roles (audited)", ADMIN)
TEAMS = Access("Technicians' teams (regions), skills and hours (audited)", ADMIN)
SETTINGS = Access("Settings: mail sender, business calendars, KPI alert thresholds (audited)", ADMIN)

TABLE: dict[str, Access] = {
    "GET /": Access("Start page (the tasklist, or the sign-in page)", EVERYONE),
    "GET /login": SIGN_IN,
    "POST /login": SIGN_IN,
    "POST /logout": Access("Sign out", STAFF),
    "GET /lang/<code>": SIGN_IN,
    "GET /healthz": PUBLIC,
    "GET /static/<path:filename>": PUBLIC,
    # staff work
    "GET /tasks": TASKS,
    "GET /tasks/<task_id>": TASKS,
    "POST /tasks/<task_id>": TASKS,
    "POST /tasks/<task_id>/claim": TASKS,
    "POST /tasks/<task_id>/unclaim": TASKS,
    "POST /tasks/<task_id>/reassign": REASSIGN,
    # the field: a technician's day, the dispatch board, photos from the phone
    "GET /my-day": FIELD_DAY,
    "POST /my-day/visits/<int:visit_id>/reschedule": FIELD_DAY,
    "POST /tasks/<task_id>/photo": FIELD_PHOTO,
    "GET /dispatch": DISPATCH,
    "POST /dispatch/move": DISPATCH,
    "POST /dispatch/assign": DISPATCH,
    "GET /tickets": TICKETS,
    "GET /tickets/<key>": TICKETS,
    "GET /tickets/<key>/quote/<int:quote_id>": TICKETS,
    "POST /tickets/<key>/notes": Access("Write internal notes on tickets",
                                       frozenset({"agent", "supervisor", "technician", "warehouse", "qa"})),
    "POST /tickets/<key>/calls": CUSTOMER_CONTACT,
    "POST /tickets/<key>/messages": CUSTOMER_CONTACT,
    "POST /tickets/<key>/contact": CUSTOMER_CONTACT,
    "POST /tickets/<key>/cancel": Access("Cancel requests, with a reason", INTAKE),
    "POST /tickets/<key>/attachments": TICKET_FILES,
    "GET /tickets/<key>/attachments/<int:attachment_id>": TICKET_FILES,
    "GET /tickets.csv": TICKETS,
    "GET /customers": CUSTOMERS,
    "GET /customers/<int:customer_id>": CUSTOMERS,
    "GET /mail/": MAIL,
    "GET /mail/intake/": Access("Mail intake log: customers' e-mail received, the ticket made or joined, "
                                "refusals with their reason", SUPERVISING),
    "GET /privacy/": PRIVACY,
    "POST /privacy/export": PRIVACY,
    "POST /privacy/erase": PRIVACY,
    "GET /requests/new": REGISTER,
    "POST /requests/new": REGISTER,
    "GET /requests/lookup": REGISTER,
    # warehouse
    "GET /qa/": QA_SAMPLE,
    "GET /warehouse/": STOCK_READ,
    "GET /warehouse/reservations": STOCK_READ,
    "GET /warehouse/backorders": STOCK_READ,
    "GET /warehouse/goods-in": STOCK_READ,
    "POST /warehouse/goods-in": STOCK_WORK,
    "GET /warehouse/adjust": STOCK_READ,
    "POST /warehouse/adjust": STOCK_WORK,
    "GET /warehouse/movements": STOCK_READ,
    "GET /warehouse/rma": STOCK_READ,
    "POST /warehouse/rma/<rma_number>/receive": STOCK_WORK,
    "GET /warehouse/picking": STOCK_READ,
    "GET /warehouse/shipments": STOCK_READ,
    "POST /warehouse/shipments/<int:shipment_id>/ship": STOCK_WORK,
    # customers
    "GET /service/": SELF_SERVICE,
    "GET /service/request": SELF_SERVICE,
    "POST /service/request": SELF_SERVICE,
    "GET /service/status": SELF_SERVICE,
    "POST /service/status": SELF_SERVICE,
    "GET /service/respond/<token>": SELF_SERVICE,
    "POST /service/respond/<token>": SELF_SERVICE,
    "GET /service/respond/<token>/quote": SELF_SERVICE,
    "GET /s/<token>": SELF_SERVICE,
    "POST /s/<token>": SELF_SERVICE,
    "GET /service/suggestions": SELF_SERVICE,
    "GET /service/articles/<int:article_id>": SELF_SERVICE,
    "POST /service/articles/<int:article_id>/solved": SELF_SERVICE,
    "GET /service/status/<token>": SELF_SERVICE,
    "POST /service/status/<token>/<action>": SELF_SERVICE,
    # audit
    "GET /audit/instances": TRAIL,
    "GET /audit/instances.csv": TRAIL,
    "GET /audit/instances/<int:instance_id>": TRAIL,
    "GET /audit/instances/<int:instance_id>/data.json": TRAIL,
    "GET /audit/instances/<int:instance_id>/elements/<element_id>.json": TRAIL,
    "GET /audit/instances/<int:instance_id>/trace.json": TRAIL,
    "GET /audit/instances/<int:instance_id>/trail.<fmt>": TRAIL,
    "POST /audit/instances/<int:instance_id>/mask": TRAIL,
    "POST /audit/instances/<int:instance_id>/unmask": UNMASK,
    "GET /audit/verify": TRAIL,
    # process owners
    "GET /owner/definitions": DEFINITIONS,
    "GET /owner/deploy": DEFINITIONS,
    "POST /owner/deploy": DEFINITIONS,
    "GET /owner/deployments/<int:deployment_id>": DEFINITIONS,
    "GET /owner/deployments/<int:deployment_id>/download": DEFINITIONS,
    "GET /owner/deployments/<int:deployment_id>/files/<path:path>": FILES,
    "GET /owner/heatmap/<int:deployment_id>/<process_id>": DEFINITIONS,
    "GET /owner/heatmap/<int:deployment_id>/<process_id>.json": DEFINITIONS,
    "GET /owner/incidents": OPERATE,
    "POST /owner/incidents/retry": OPERATE,
    "GET /owner/undelivered-messages": OPERATE,
    "GET /owner/workbench": WORKBENCH,
    "POST /owner/workbench/drafts": WORKBENCH,
    "GET /owner/drafts/<int:draft_id>/edit": WORKBENCH,
    "GET /owner/migrate": WORKBENCH,
    "GET /owner/pilots": WORKBENCH,
    "GET /owner/whatif": WORKBENCH,
    "GET /owner/drafts/<int:draft_id>/whatif": WORKBENCH,
    "POST /owner/api/drafts/<int:draft_id>/whatif": WORKBENCH,
    "GET /owner/api/bundle-index": WORKBENCH,
    "GET /owner/api/drafts": WORKBENCH,
    "POST /owner/api/drafts": WORKBENCH,
    "GET /owner/api/drafts/<int:draft_id>": WORKBENCH,
    "GET /owner/api/drafts/<int:draft_id>/compare": WORKBENCH,
    "POST /owner/api/drafts/<int:draft_id>/deploy": WORKBENCH,
    "GET /owner/api/drafts/<int:draft_id>/download": WORKBENCH,
    "GET /owner/api/drafts/<int:draft_id>/files/<path:path>": WORKBENCH,
    "PUT /owner/api/drafts/<int:draft_id>/files/<path:path>": WORKBENCH,
    "DELETE /owner/api/drafts/<int:draft_id>/files/<path:path>": WORKBENCH,
    "GET /owner/api/drafts/<int:draft_id>/translations/<lang>": WORKBENCH,
    "POST /owner/api/drafts/<int:draft_id>/upload": WORKBENCH,
    "POST /owner/api/drafts/<int:draft_id>/validate": WORKBENCH,
    "POST /owner/api/forms/preview": WORKBENCH,
    "POST /owner/api/forms/try": WORKBENCH,
    "GET /owner/api/operators": WORKBENCH,
    "GET /owner/api/instances": WORKBENCH,
    "POST /owner/api/migrations": WORKBENCH,
    "POST /owner/api/migrations/dry-run": WORKBENCH,
    "GET /owner/api/pilots": WORKBENCH,
    "POST /owner/api/pilots": WORKBENCH,
    "POST /owner/api/pilots/<int:pilot_id>/<any(promote, stop):action>": WORKBENCH,
    "GET /owner/api/pilots/<int:pilot_id>/figures": WORKBENCH,
    "POST /owner/api/processes/<process_id>/current": WORKBENCH,
    "POST /owner/api/whatif": WORKBENCH,
    "GET /owner/api/whatif/<job_id>": WORKBENCH,
    "GET /owner/api/whatif/<job_id>/files/<side>/<path:path>": WORKBENCH,
    # dashboard, administration
    "GET /dashboard/": KPI,
    "GET /dashboard/data.json": KPI,
    "GET /dashboard/tickets": KPI,
    "GET /dashboard/export/<table>.csv": KPI,
    "GET /dashboard/kpi/": KPI,
    "GET /dashboard/kpi/<key>": KPI,
    "POST /dashboard/verify": KPI_VERIFY,
    "GET /dashboard/people/": PEOPLE,
    "GET /dashboard/people/<username>": PEOPLE,
    "GET /admin/api-keys/": KEYS,
    "POST /admin/api-keys/": KEYS,
    "POST /admin/api-keys/<name>/revoke": KEYS,
    # administration and one's own account
    "GET /account/": ACCOUNT,
    "POST /account/language": ACCOUNT,
    "POST /account/password": ACCOUNT,
    "GET /admin/users": USERS,
    "POST /admin/users": USERS,
    "GET /admin/users/<username>": USERS,
    "POST /admin/users/<username>": USERS,
    "POST /admin/users/<username>/roles": USERS,
    "POST /admin/users/<username>/active": USERS,
    "POST /admin/users/<username>/password": USERS,
    "GET /admin/teams": TEAMS,
    "POST /admin/teams/technicians": TEAMS,
    "POST /admin/teams/catalogue": TEAMS,
    "GET /admin/settings": SETTINGS,
    "POST /admin/settings": SETTINGS,
    # the REST API: a key (or a signed-in user's roles) must hold the scope
    "GET /api/v1/openapi.json": PUBLIC,
    "POST /api/v1/service-requests": api("service-requests:write", "API: open tickets"),
    "GET /api/v1/service-requests/<ticket>": api("service-requests:read", "API: read tickets"),
    "GET /api/v1/tasks": api("tasks:read", "API: list tasks, read a task's form"),
    "GET /api/v1/tasks/<task_id>/form": api("tasks:read", "API: list tasks, read a task's form"),
    "POST /api/v1/tasks/<task_id>/claim": api("tasks:write", "API: claim and complete tasks"),
    "POST /api/v1/tasks/<task_id>/complete": api("tasks:write", "API: claim and complete tasks"),
    "POST /api/v1/messages": api("messages:write", "API: deliver messages"),
    "POST /api/v1/signals": api("signals:write", "API: broadcast signals"),
    "GET /api/v1/undelivered-messages": api("instances:read", "API: read instances, trails, undelivered messages"),
    "GET /api/v1/instances/<int:instance_id>": api("instances:read",
                                                   "API: read instances, trails, undelivered messages"),
    "GET /api/v1/instances/<int:instance_id>/events": api("instances:read",
                                                          "API: read instances, trails, undelivered messages"),
    "GET /api/v1/definitions": api("definitions:read", "API: list definitions"),
    "POST /api/v1/deployments": api("deployments:write", "API: deploy bundles"),
}

#: the rows ``docs/security.md`` shows, in this order (the capability of each row, once)
CAPABILITIES = list(dict.fromkeys(access.capability for access in TABLE.values()))


def capability_table() -> str:
    """Return the role × capability table of docs/security.md (Markdown), made from :data:`TABLE`."""
    columns = (*ROLES, "anonymous")
    lines = ["| capability | " + " | ".join(columns) + " |", "| --- |" + " :-: |" * len(columns)]
    for capability in CAPABILITIES:
        access = next(a for a in TABLE.values() if a.capability == capability)
        marks = ["✓" if access.allows(role) else "·" for role in columns]
        lines.append(f"| {capability} | " + " | ".join(marks) + " |")
    return "\n".join(lines)


def scope_table() -> str:
    """Return the table of API scopes and the operations each opens (Markdown), made from :data:`TABLE`."""
    from engine.apikeys import SCOPES

    lines = ["| scope | operations | roles signed in through the web session |", "| --- | --- | --- |"]
    for scope, meaning in SCOPES.items():
        operations = [f"`{key}`" for key, access in TABLE.items() if access.scope == scope]
        roles = [role for role in ROLES if scope in API_ROLE_SCOPES.get(role, set())]
        opens = ", ".join(operations) or "(checked by the engine: message contracts)"
        lines.append(f"| `{scope}` ({meaning}) | {opens} | {', '.join(roles) or '–'} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(capability_table(), scope_table(), sep="\n\n")
