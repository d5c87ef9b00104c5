"""Run PAO and a real Backstage backend (backstage-plugin/test-backend) as processes on free loopback ports.

Used by tests/integration/test_backstage_backend.py and bench/backstage.py. PAO runs `pao serve` on a
private copy of a catalog folder (callers edit it) with the demo provisioner and a service token;
Backstage runs PAO's catalog and scaffolder modules pointed at it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
WORKSPACE = ROOT / "backstage-plugin"
TEST_BACKEND = WORKSPACE / "test-backend"
SERVICE_TOKEN = "backstage-service-token-for-tests"  # PAO_SERVICE_TOKENS entry "backstage"
EXTERNAL_TOKEN = "test-backstage-token-0123456789"  # test-backend/app-config.yaml externalAccess
USER_REF = "user:default/jdoe"  # the guest sign-in of test-backend/app-config.yaml
START_TIMEOUT = 120.0

T = TypeVar("T")


def node_missing() -> str | None:
    """Why the Backstage backend cannot run here, or None when node, npm and node_modules are in place."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "Node.js and npm on PATH"
    modules = WORKSPACE / "node_modules"
    for package in (
        "@backstage/backend-defaults",
        "@backstage/plugin-scaffolder-backend",
        "tsx",
        "better-sqlite3",
    ):
        if not (modules / package).is_dir():
            return f"backstage-plugin/node_modules/{package} (`make test` runs npm ci there)"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def tail(log: Path | None, lines: int = 60) -> str:
    """The end of a process log, without the access-log lines of polling loops."""
    if log is None or not log.exists():
        return ""
    text = [
        line
        for line in log.read_text(errors="replace").splitlines()
        if "incomingRequest" not in line and '"GET /' not in line
    ][-lines:]
    return f"\n--- {log.name} (last {len(text)} lines) ---\n" + "\n".join(text)


def eventually(what: str, probe: Callable[[], T | None], *, timeout: float, log: Path | None = None) -> T:
    """Poll `probe` until it returns something truthy; raise AssertionError naming `what` otherwise."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            result = probe()
        except httpx.TransportError as exc:  # not listening yet
            last = exc
        else:
            if result:
                return result
            last = result
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {timeout:.0f}s (last: {last!r}){tail(log)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@dataclass
class Pao:
    url: str
    catalog_dir: Path
    log: Path

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {SERVICE_TOKEN}"}, timeout=30
        )


@dataclass
class Backstage:
    url: str
    log: Path
    user_token: str = ""

    def client(self, *, as_user: bool = False) -> httpx.Client:
        token = self.user_token if as_user else EXTERNAL_TOKEN
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


@contextlib.contextmanager
def run_pao(work: Path, *, catalog: Path) -> Iterator[Pao]:
    """`pao serve` on a copy of `catalog` under `work`, SQLite, demo provisioner, service token."""
    catalog_dir = work / "catalog"
    shutil.copytree(catalog, catalog_dir)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAO_")}
    env.update(
        {
            "PAO_ENVIRONMENT": "test",
            "PAO_HOST": "127.0.0.1",
            "PAO_PORT": str(port),
            "PAO_BASE_URL": url,
            "PAO_CATALOG_DIR": str(catalog_dir),
            "PAO_TEMPLATES_DIR": str(ROOT / "templates"),
            "PAO_DATA_DIR": str(work / "pao-data"),
            "PAO_DEMO_PROVISIONER": "true",
            "PAO_PROVISIONER_URL": f"{url}/demo/provisioner",
            "PAO_DEMO_PROVISIONER_DELAY": "0.1",
            "PAO_SERVICE_TOKENS": f'{{"backstage": "{SERVICE_TOKEN}"}}',
        }
    )
    log = work / "pao.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "from pao_backend.cli import app; app()", "serve"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:

        def healthy() -> bool:
            assert process.poll() is None, f"PAO exited with {process.returncode}{tail(log)}"
            return httpx.get(f"{url}/healthz", timeout=2).status_code == 200

        eventually("PAO answering /healthz", healthy, timeout=START_TIMEOUT, log=log)
        yield Pao(url=url, catalog_dir=catalog_dir, log=log)
    finally:
        _stop(process)


@contextlib.contextmanager
def run_backstage(work: Path, *, pao: Pao, config: dict[str, Any] | None = None) -> Iterator[Backstage]:
    """backstage-plugin/test-backend against `pao`; `config` is merged over the generated app-config."""
    node = shutil.which("node")
    assert node is not None, "node is not on PATH"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    generated: dict[str, Any] = {
        "backend": {"baseUrl": url, "listen": {"host": "127.0.0.1", "port": port}},
        "pao": {
            "baseUrl": pao.url,
            "serviceToken": SERVICE_TOKEN,
            "catalog": {"changePollInterval": {"seconds": 1}},
        },
    }
    for key, value in (config or {}).items():
        if isinstance(value, dict) and isinstance(generated.get(key), dict):
            generated[key] = {**generated[key], **value}
        else:
            generated[key] = value
    config_file = work / "app-config.test.yaml"
    config_file.write_text(yaml.safe_dump(generated))
    log = work / "backstage.log"
    env = {**os.environ, "FORCE_COLOR": "0", "NO_COLOR": "1"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                node,
                "--import",
                "tsx",
                "src/index.ts",
                "--config",
                "app-config.yaml",
                "--config",
                str(config_file),
            ],
            cwd=TEST_BACKEND,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:

        def ready() -> bool:
            assert process.poll() is None, f"Backstage exited with {process.returncode}{tail(log)}"
            return httpx.get(f"{url}/.backstage/health/v1/readiness", timeout=2).status_code == 200

        eventually("Backstage readiness", ready, timeout=START_TIMEOUT, log=log)
        refreshed = httpx.get(f"{url}/api/auth/guest/refresh", timeout=10)
        assert refreshed.status_code == 200, refreshed.text
        token = refreshed.json()["backstageIdentity"]["token"]
        yield Backstage(url=url, log=log, user_token=token)
    finally:
        _stop(process)


def backstage_entities(backstage: Backstage) -> dict[str, dict[str, Any]]:
    """Backstage's Templates and Groups by `kind:name` (lower-case kind)."""
    with backstage.client() as client:
        response = client.get(
            "/api/catalog/entities", params=[("filter", "kind=template"), ("filter", "kind=group")]
        )
    response.raise_for_status()
    return {f"{e['kind'].lower()}:{e['metadata']['name']}": e for e in response.json()}


def pao_entities(pao: Pao) -> set[str]:
    """PAO's Templates and Groups as `kind:name`."""
    with pao.client() as client:
        response = client.get(
            "/api/catalog/entities", params=[("filter", "kind=template"), ("filter", "kind=group")]
        )
    response.raise_for_status()
    return {f"{e['kind'].lower()}:{e['metadata']['name']}" for e in response.json()}


def create_task(
    client: httpx.Client, template: str, values: dict[str, Any], *, secrets: dict[str, str] | None = None
) -> str:
    body: dict[str, Any] = {"templateRef": template, "values": values}
    if secrets:
        body["secrets"] = secrets
    created = client.post("/api/scaffolder/v2/tasks", json=body)
    assert created.status_code == 201, created.text
    task_id: str = created.json()["id"]
    return task_id


def wait_for_task(
    backstage: Backstage, task_id: str, *, timeout: float = 150.0
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Wait until the task ends; returns (task, events)."""
    with backstage.client(as_user=True) as client:

        def finished() -> dict[str, Any] | None:
            task: dict[str, Any] = client.get(f"/api/scaffolder/v2/tasks/{task_id}").json()
            return task if task["status"] in ("completed", "failed", "cancelled") else None

        task = eventually(f"task {task_id} ending", finished, timeout=timeout, log=backstage.log)
        events: list[dict[str, Any]] = client.get(f"/api/scaffolder/v2/tasks/{task_id}/events").json()
    return task, events


def run_task(
    backstage: Backstage, template: str, values: dict[str, Any], *, timeout: float = 150.0
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Create a task as the signed-in user and wait for it to end; returns (task, events)."""
    with backstage.client(as_user=True) as client:
        task_id = create_task(client, template, values)
    return wait_for_task(backstage, task_id, timeout=timeout)
