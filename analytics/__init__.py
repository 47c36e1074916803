"""KPI analytics: facts kept current from the audit trail, roll-ups, figures, alerts, root-cause starts.

Holds what the business steers by and what the dashboard shows — the fact and roll-up
tables (:mod:`analytics.facts`, :mod:`analytics.rollup`), the worker job that refreshes
them (:mod:`analytics.refresh`, :mod:`analytics.jobs`), the figures and drill-downs
(:mod:`analytics.queries`), alerts (:mod:`analytics.alerts`), root-cause analyses
(:mod:`analytics.rca`) and the dashboard's data (:mod:`analytics.dashboard`).

May import: ``engine`` and ``handlers`` (it reads the handlers' tables). Never ``web``,
``readmodels``, ``cli`` or ``simulation`` (import-linter checks, see pyproject.toml).
The engine loads this package by name with the handlers (:func:`engine.registry.load_handlers`),
so its tables and its worker job register wherever the engine runs.
"""
