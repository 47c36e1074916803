"""The KPI worker job: refresh the facts, then check the alerts, then start root-cause analyses.

One job, in this order, so alerts and analyses always see the facts of this pass; each
step is its own transaction(s) and a failing step does not stop the next one.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from engine.db import Database
from engine.errors import StoreUnavailable

from .kpi_alerts import check_alerts
from .kpi_rca import start_root_cause_analyses
from .kpi_refresh import refresh

log = logging.getLogger("aftersales.kpi")


def kpi_job(db: Database, runtime: Any, now: datetime) -> int:
    """Run the KPI steps of one worker pass; return instances refreshed + alerts raised + analyses started."""
    done = 0
    steps = (("refresh", lambda: refresh(db, now)), ("alerts", lambda: check_alerts(db, now)),
             ("root-cause analyses", lambda: start_root_cause_analyses(db, runtime, now)))
    for name, step in steps:
        try:
            done += step()
        except StoreUnavailable:
            raise  # the worker backs off
        except Exception:  # one failing step must not stop the others
            log.exception("KPI %s failed", name)
    return done


def _register_with_worker() -> None:
    from engine.worker import register_job

    register_job("kpi", kpi_job)


_register_with_worker()
