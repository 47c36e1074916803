"""Run a function from many threads at once and collect what they raise."""

from __future__ import annotations

import threading
from collections.abc import Callable


def run_in_threads(function: Callable[[int], object], count: int) -> list[BaseException]:
    """Call ``function(i)`` for i in range(count), all threads released together; return the errors."""
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run(i: int) -> None:
        try:
            start.wait()
            function(i)
        except BaseException as exc:  # noqa: BLE001  (the caller asserts there were none)
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
