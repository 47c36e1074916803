"""The command line ``aftersales``: one click group (:func:`main`) and its commands.

Holds the commands and their glue only — :mod:`cli.main` (the group, deploy, start,
tasks, worker, audit …), :mod:`cli.serve` (serve, demo), :mod:`cli.apikeys` and
:mod:`cli.simulate`; each parses its options, calls the engine, the simulator or the web
app factory, and prints. ``python -m cli`` runs it too.

May import every other package (``web``, ``simulation``, ``analytics``, ``readmodels``,
``handlers``, ``engine``); nothing imports it (import-linter checks, see pyproject.toml).
"""

from .main import main

__all__ = ["main"]
