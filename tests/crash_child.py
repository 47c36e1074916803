"""Child process for the crash-safety test: runs triggers in a loop until killed.

Usage: python -m tests.crash_child DATABASE_URL LOG_FILE SEED
After each committed trigger it appends a line to LOG_FILE (flushed and fsynced), so the
parent knows which triggers committed before the SIGKILL.
"""

from __future__ import annotations

import os
import random
import sys

from sqlalchemy import select

import tests.handlers_for_tests  # noqa: F401
from engine.config import load_settings
from engine.db import Database
from engine.identity import Actor
from engine.models import Instance, MessageSubscription, WorkItem
from engine.runtime import Runtime


def main(url: str, log_path: str, seed: int) -> None:
    """Start instances and push them along at random until killed."""
    rng = random.Random(seed)
    db, rt = Database(url), Runtime(load_settings(database_url=url))
    ann = Actor("ann", frozenset({"agent"}))
    with open(log_path, "a", encoding="utf-8") as log:
        n = 0
        while True:
            n += 1
            action = _step(db, rt, ann, rng, f"C-{seed}-{n}")
            log.write(f"{action}\n")
            log.flush()
            os.fsync(log.fileno())


def _step(db: Database, rt: Runtime, ann: Actor, rng: random.Random, key: str) -> str:
    with db.transaction() as s:
        items = list(s.scalars(select(WorkItem).order_by(WorkItem.task_id).limit(20)))
        subs = list(s.scalars(select(MessageSubscription).limit(20)))
        open_count = s.scalar(select(Instance.id).where(Instance.status == "active").limit(1))
        choice = rng.random()
        if items and choice < 0.6:
            item = rng.choice(items)
            data = {"customer": "X", "amount": rng.randint(0, 300)} if item.element_id == "register" else {}
            rt.complete_task(s, item.task_id, ann, data)
            return f"complete {item.instance_id} {item.task_id}"
        if subs and choice < 0.8:
            sub = rng.choice(subs)
            rt.deliver_message(s, "customer_ok", sub.correlation_key, {"ok": True})
            return f"message {sub.instance_id}"
        if open_count is None or choice >= 0.8:
            started = rt.start(s, "simple", {"channel": "web"}, key, "ann")
            return f"start {started.instance_id}"
        return "idle"


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
