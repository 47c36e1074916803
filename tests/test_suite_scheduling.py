"""How the suite's modules are handed to pytest-xdist's workers (tests/conftest.py)."""

from __future__ import annotations

from typing import Any

from tests.conftest import pytest_xdist_make_scheduler

SPLIT = "tests/test_split.py"
WHOLE = "tests/test_whole.py"
COLLECTION = [f"{SPLIT}::test_a[sqlite]", f"{SPLIT}::test_a[postgresql]", f"{SPLIT}::test_b[sqlite-body0]",
              f"{WHOLE}::test_walk[sqlite]", f"{WHOLE}::test_walk[postgresql]", f"{WHOLE}::test_walk_reached_all",
              "tests/test_plain.py::test_c"]


class _Config:
    """What the scheduler reads of pytest's config: two workers, --dist loadscope."""

    class option:  # noqa: N801 (pytest's attribute)
        numprocesses, tx, loadscopereorder = 2, ["popen", "popen"], False

    def getvalue(self, name: str) -> Any:
        return {"dist": "loadscope", "numprocesses": 2, "tx": ["popen", "popen"]}.get(name)


def _scopes() -> dict[str, str]:
    scheduler = pytest_xdist_make_scheduler(_Config(), None)  # type: ignore[arg-type]
    scheduler.collection = COLLECTION
    return {nodeid: scheduler._split_scope(nodeid) for nodeid in COLLECTION}


def test_a_module_whose_every_test_names_a_backend_is_split_per_backend() -> None:
    scopes = _scopes()
    assert scopes[f"{SPLIT}::test_a[sqlite]"] == scopes[f"{SPLIT}::test_b[sqlite-body0]"] == f"{SPLIT}@sqlite"
    assert scopes[f"{SPLIT}::test_a[postgresql]"] == f"{SPLIT}@postgresql"


def test_a_module_with_a_test_naming_no_backend_stays_one_unit() -> None:
    # the unparametrized test reads what the walks on both backends left: it must run after them, on their worker
    scopes = _scopes()
    assert {scopes[n] for n in COLLECTION if n.startswith(WHOLE)} == {WHOLE}
    assert scopes["tests/test_plain.py::test_c"] == "tests/test_plain.py"
