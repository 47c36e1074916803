"""Service-task handlers: plain functions registered with ``@handler("name")``, one module per domain.

Each module holds the functions the service tasks of ``processes/`` call (and the tables
and worker jobs of its domain). The engine knows them only by name: it imports this
package by name (:func:`engine.registry.load_handlers`), never statically.

May import: ``engine`` (models, errors, the registry). Never ``web``, ``analytics``,
``readmodels``, ``cli`` or ``simulation`` (import-linter checks, see pyproject.toml).
"""
