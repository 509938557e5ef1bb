"""`coalhub serve --workers N`: N worker processes answering on one port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.device_bridge.peers import free_port

REPO = Path(__file__).resolve().parent.parent


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(child) for child in task.read_text().split()]
    return found


def test_serve_with_two_workers(tmp_path: Path) -> None:
    env = {**os.environ, "COALHUB_DATABASE_URL": f"sqlite:///{tmp_path / 'hub.sqlite3'}"}
    coalhub = [str(Path(sys.executable).parent / "coalhub")]  # the installed command
    subprocess.run([*coalhub, "db", "upgrade"], env=env, cwd=REPO, check=True, timeout=120)
    port = free_port()
    with subprocess.Popen(
        [*coalhub, "serve", "--workers", "2", "--port", str(port)],
        env=env,
        cwd=REPO,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    ) as server:
        try:
            deadline, workers = time.monotonic() + 60, []
            while time.monotonic() < deadline:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                workers = [p for p in children(server.pid) if b"spawn" in _cmdline(p)]
                try:
                    if (
                        len(workers) == 2
                        and httpx.get(f"http://127.0.0.1:{port}/healthz").is_success
                    ):
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.3)
            assert len(workers) == 2
            answer = httpx.post(
                f"http://127.0.0.1:{port}/graphql", json={"query": "{ me { clientId } }"}
            )
            assert answer.status_code == 401  # a worker of the real app: tokens required
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return b""
