"""The KPI worker job: refresh the facts, then check the alerts, then start root-cause analyses.

One job, in this order, so alerts and analyses see the facts of this pass. Alerts and
analyses only change when facts do, so they run when this pass refreshed some — or at
least once an hour (a period ends, a figure ages). Each step is its own transaction(s);
a failing step does not stop the next one.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from engine.db import Database
from engine.errors import StoreUnavailable

from .alerts import check_alerts
from .rca import start_root_cause_analyses
from .refresh import refresh

log = logging.getLogger("aftersales.kpi")
HOURLY = timedelta(hours=1)
_last_look: dict[str, datetime] = {}


def _step(name: str, step: Any) -> int:
    try:
        return int(step())
    except StoreUnavailable:
        raise  # the worker backs off
    except Exception:  # one failing step must not stop the others
        log.exception("KPI %s failed", name)
        return 0


def kpi_job(db: Database, runtime: Any, now: datetime) -> int:
    """Run the KPI steps of one worker pass; return instances refreshed + alerts raised + analyses started."""
    done = _step("refresh", lambda: refresh(db, now))
    last = _last_look.get(db.url)
    if done or last is None or not last <= now < last + HOURLY:
        _last_look[db.url] = now
        done += _step("alerts", lambda: check_alerts(db, now))
        done += _step("root-cause analyses", lambda: start_root_cause_analyses(db, runtime, now))
    return done


def _register_with_worker() -> None:
    from engine.worker import register_job

    register_job("kpi", kpi_job)


_register_with_worker()
