"""The aftersales engine: deploy, run, persist and audit BPMN process instances (no Flask).

Holds deployment (validate, lint, freeze), the runtime and its triggers, the store and
the derived rows, the audit trail, the worker, the handler registry and the models.

May import: SpiffWorkflow, SQLAlchemy and the standard library — no package of ours
above it (import-linter checks, see pyproject.toml). Handlers and analytics are loaded
by name only (:func:`engine.registry.load_handlers`).
"""
