"""The web app runs under gunicorn with several worker processes, as the README documents."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_gunicorn_serves_the_app_with_several_workers(database_url, database, tmp_path):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "AFTERSALES_SECRET_KEY": "test-secret-key-for-gunicorn"}
    with open(tmp_path / "gunicorn.log", "wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "3", "--bind", f"127.0.0.1:{port}",
                                   "web:create_app()"], cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        pids = set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(pids) < 2:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                    assert response.status == 200
                    pids.add(json.loads(response.read())["pid"])
            except OSError:
                time.sleep(0.3)
        assert pids, (tmp_path / "gunicorn.log").read_text()[-2000:]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as response:
            assert response.status == 200
            assert response.headers["X-Frame-Options"] == "DENY"
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
