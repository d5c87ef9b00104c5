"""Benchmark: PAO inside a real Backstage backend (backstage-plugin/test-backend), sample catalog.

Measures:
  * Backstage start: process start → readiness, and → every PAO Template and Group in its catalog;
  * catalog propagation: a document edit + `POST /api/pao/v1/catalog/refresh` → visible in Backstage
    (median and max over N edits; the module polls PAO's etag every second here);
  * task overhead: the web-app bundle run through Backstage (`POST /v2/tasks` → task seen completed) against
    the same request's own duration in PAO (createdAt → finishedAt), as a ratio.

Run: `make bench` or `.venv/bin/python bench/backstage.py [--edits N] [--tasks M]`.
Needs node, npm and backstage-plugin/node_modules (`make test` installs them).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.backstage import (  # noqa: E402
    backstage_entities,
    eventually,
    node_missing,
    pao_entities,
    run_backstage,
    run_pao,
    run_task,
)

WEBAPP_VALUES = {
    "basic": {"instanceClass": "small", "storageSize": 20},
    "app": {"image": "ghcr.io/example/hello:1.0.0", "replicas": 2, "public": False},
}


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=5)
    parser.add_argument("--tasks", type=int, default=3)
    args = parser.parse_args()
    missing = node_missing()
    if missing:
        print(f"bench/backstage.py needs {missing}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="pao-bench-backstage-") as tmp:
        work = Path(tmp)
        with run_pao(work, catalog=ROOT / "catalog") as pao:
            expected = pao_entities(pao)
            started = time.monotonic()
            with run_backstage(work, pao=pao) as backstage:
                ready = time.monotonic() - started
                eventually(
                    "every PAO entity in Backstage",
                    lambda: expected <= set(backstage_entities(backstage)),
                    timeout=120,
                    log=backstage.log,
                )
                synced = time.monotonic() - started
                print(
                    f"backstage start: ready {ready:.1f} s, "
                    f"all {len(expected)} PAO entities in catalog {synced:.1f} s"
                )

                document = pao.catalog_dir / "networking" / "networking-dns-record.yaml"
                delays = []
                for n in range(args.edits):
                    data = yaml.safe_load(document.read_text())
                    text = (
                        f"Edit number {n} of the catalog propagation benchmark, in a temporary catalog copy."
                    )
                    data["metadata"]["description"] = text
                    document.write_text(yaml.safe_dump(data, sort_keys=False))
                    with pao.client() as client:
                        client.post("/api/pao/v1/catalog/refresh").raise_for_status()
                    begin = time.monotonic()
                    eventually(
                        f"edit {n} in Backstage",
                        lambda text=text: (
                            backstage_entities(backstage)
                            .get("template:networking-dns-record", {})
                            .get("metadata", {})
                            .get("description")
                            == text
                        ),
                        timeout=60,
                        log=backstage.log,
                    )
                    delays.append(time.monotonic() - begin)
                print(
                    f"catalog edit -> visible in Backstage: median {statistics.median(delays):.2f} s, "
                    f"max {max(delays):.2f} s over {len(delays)} edits (change poll 1 s)"
                )

                ratios = []
                for n in range(args.tasks):
                    begin = time.monotonic()
                    task, events = run_task(
                        backstage,
                        "template:default/bundle-webapp-standard",
                        {"name": f"bench-{n}", **WEBAPP_VALUES},
                    )
                    # Client wall clock: Backstage's timestamps have second resolution; polls every 0.1 s.
                    backstage_s = time.monotonic() - begin
                    assert task["status"] == "completed", task
                    completion = next(e for e in events if e["type"] == "completion")
                    url = completion["body"]["output"]["links"][0]["url"]
                    with pao.client() as client:
                        request = client.get(f"/api/pao/v1/requests/{url.rsplit('/', 1)[1]}").json()
                    pao_s = (_at(request["finishedAt"]) - _at(request["createdAt"])).total_seconds()
                    ratios.append(backstage_s / pao_s)
                    print(
                        f"web-app bundle task {n}: Backstage {backstage_s:.2f} s, PAO request {pao_s:.2f} s"
                    )
                print(
                    f"task overhead: Backstage/PAO duration ratio median {statistics.median(ratios):.2f} "
                    f"over {len(ratios)} tasks"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
