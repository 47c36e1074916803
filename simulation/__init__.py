"""The simulator: a synthetic after-sales workload played against the real engine.

Holds the workload (:mod:`simulation.workload`: who calls about what, what staff and
customers answer, drawn from ``processes/data/simulation.json``) and the discrete-event
simulation that plays it through :class:`engine.runtime.Runtime` on a frozen clock
(:mod:`simulation.history`), for ``aftersales simulate`` and the demo's history.

May import: ``engine``, ``handlers`` and ``analytics``. Never ``web`` or ``cli``
(import-linter checks, see pyproject.toml): the command line drives the simulator, not
the other way round.
"""
