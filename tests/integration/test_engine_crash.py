"""Crash safety and scale-out with real processes: `pao serve` killed with SIGKILL mid-bundle, and (on
PostgreSQL) two `pao worker` processes where one dies and the other takes over its requests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pao_backend.orchestration.steps import RUNNING_NOTICE_SECONDS
from tests.conftest import ROOT, SAMPLE_CATALOG
from tests.support.databases import postgres_database
from tests.support.provisioner import ProvisionerServer

API = "/api/pao/v1/requests"
WEBAPP = {"name": "crashy", "app": {"image": "ghcr.io/example/crashy:1.0.0"}}
PAO = str(Path(sys.executable).parent / "pao")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Process:
    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._handle = log.open("ab")
        self.proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=self._handle, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._handle.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._handle.close()


def _env(data_dir: Path, provisioner: ProvisionerServer, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAO_")}
    env.update(
        {
            "PAO_ENVIRONMENT": "test",
            "PAO_DATA_DIR": str(data_dir),
            "PAO_CATALOG_DIR": str(SAMPLE_CATALOG),
            "PAO_ENDPOINTS": json.dumps({"provisioner": provisioner.url}),
            "PAO_HEARTBEAT_SECONDS": "0.5",
            "PAO_STALE_AFTER_SECONDS": "2",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update(extra)
    return env


def _wait(what: str, probe: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = probe()
            if last:
                return last
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def _serve(data_dir: Path, provisioner: ProvisionerServer, port: int, **extra: str) -> Process:
    env = _env(data_dir, provisioner, PAO_PORT=str(port), **extra)
    process = Process([PAO, "serve"], env, data_dir / f"serve-{port}.log")
    _wait("pao serve", lambda: httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200)
    return process


def _detail(port: int, request_id: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"http://127.0.0.1:{port}{API}/{request_id}", timeout=5).json()
    return body


def _mid_bundle(detail: dict[str, Any]) -> bool:
    """The first component is done and the second one's HTTP call is under way."""
    components = detail["components"]
    return components[0]["state"] == "completed" and components[1]["actions"][0]["state"] == "running"


def _assert_each_side_effect_once(provisioner: ProvisionerServer, name: str) -> None:
    created = Counter(c["kind"] for c in provisioner.demo.created if c["name"] == name)
    assert created == {"databases": 1, "secrets": 1, "apps": 1}, provisioner.demo.created
    # Every attempt key that reached the backend completed at most once (repeats were replayed).
    keys = Counter(c["idempotencyKey"] for c in provisioner.demo.created)
    assert set(keys.values()) == {1}


@pytest.fixture
def slow_provisioner() -> Iterator[ProvisionerServer]:
    # Slow enough that an action is recorded as running well before it answers (a call still under way).
    provisioner = ProvisionerServer(delay=RUNNING_NOTICE_SECONDS + 1.0).start()
    try:
        yield provisioner
    finally:
        provisioner.stop()


def test_kill_9_mid_bundle_then_restart_completes_with_each_side_effect_once(
    tmp_path: Path, slow_provisioner: ProvisionerServer
) -> None:
    port = _free_port()
    first = _serve(tmp_path, slow_provisioner, port, PAO_EXECUTOR_ID="crash-test")
    try:
        response = httpx.post(
            f"http://127.0.0.1:{port}{API}",
            json={"catalogId": "bundle-webapp-standard", "values": WEBAPP},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        request_id = response.json()["id"]
        _wait("the middle of the bundle", lambda: _mid_bundle(_detail(port, request_id)))
    finally:
        first.kill()

    second = _serve(tmp_path, slow_provisioner, port, PAO_EXECUTOR_ID="crash-test")
    try:
        detail = _wait(
            "completion after restart",
            lambda: (d := _detail(port, request_id))["state"] == "completed" and d,
        )
    finally:
        second.stop()
    assert [c["state"] for c in detail["components"]] == ["completed"] * 3
    _assert_each_side_effect_once(slow_provisioner, "crashy")
    # The interrupted call was sent again with the same attempt key and answered from the first result.
    secret_keys = slow_provisioner.keys["/secrets/crashy"]
    assert len(set(secret_keys)) == 1


def test_postgres_worker_dies_and_another_takes_over(
    tmp_path: Path, slow_provisioner: ProvisionerServer, postgres_url: str
) -> None:
    with postgres_database(postgres_url) as url:
        port = _free_port()
        api = _serve(
            tmp_path, slow_provisioner, port, PAO_DATABASE_URL=url, PAO_WORKERS="false", PAO_EXECUTOR_ID="api"
        )
        workers = {
            name: Process(
                [PAO, "worker"],
                _env(tmp_path, slow_provisioner, PAO_DATABASE_URL=url, PAO_EXECUTOR_ID=name),
                tmp_path / f"{name}.log",
            )
            for name in ("worker-a", "worker-b")
        }
        try:
            time.sleep(2.0)  # both workers listen to the queues
            response = httpx.post(
                f"http://127.0.0.1:{port}{API}",
                json={"catalogId": "bundle-webapp-standard", "values": {**WEBAPP, "name": "takeover"}},
                timeout=10,
            )
            assert response.status_code == 201, response.text
            request_id = response.json()["id"]
            _wait("the middle of the bundle", lambda: _mid_bundle(_detail(port, request_id)))
            # Kill the worker whose HTTP call is under way.
            owner = _owner_of(url, f"{request_id}:secrets:0")
            workers[owner].kill()
            killed_at = time.monotonic()
            detail = _wait(
                "completion by the surviving worker",
                lambda: (d := _detail(port, request_id))["state"] == "completed" and d,
                timeout=90,
            )
            took = time.monotonic() - killed_at
        finally:
            for process in workers.values():
                if process.proc.poll() is None:
                    process.stop()
            api.stop()
        assert [c["state"] for c in detail["components"]] == ["completed"] * 3
        _assert_each_side_effect_once(slow_provisioner, "takeover")
        survivor = next(name for name in workers if name != owner)
        assert _owner_of(url, f"{request_id}:secrets:0") == survivor
        print(f"takeover: request completed {took:.1f}s after its worker was killed")


def _owner_of(url: str, request_id: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT executor_id FROM dbos.workflow_status WHERE workflow_uuid = %s", (request_id,)
        ).fetchone()
    assert row is not None
    return str(row[0])
