"""Benchmark: the Backstage catalog API over 1,000 catalog documents.

Generates N documents (copies of the sample catalog's items and bundles under new ids) into a temporary
catalog folder, then measures:
  * translation of every document into Backstage entities (translate_catalog), in-process;
  * median and p99 latency of `GET /api/catalog/entities/by-query?filter=kind=template` and of a
    parameter-schema call, one client, against real uvicorn on loopback (a separate process);
  * requests/s with 16 concurrent clients (httpx, asyncio) on the same two calls.

Run: `make bench` or `.venv/bin/python bench/catalog_api.py [--documents N] [--requests R] [--seconds S]`.
Targets on the reference machine: translate 1,000 documents in < 1 s; p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pao_backend.backstage.translate import translate_catalog  # noqa: E402
from pao_backend.catalog.loader import load_catalog  # noqa: E402

QUERY = "/api/catalog/entities/by-query"


def generate(sample: Path, target: Path, documents: int) -> list[str]:
    """Write `documents` documents (about 1 in 10 a bundle) plus teams.yaml; return their ids."""
    shutil.copy(sample / "teams.yaml", target / "teams.yaml")
    items: list[tuple[str, dict[str, Any]]] = []
    bundles: list[dict[str, Any]] = []
    for path in sorted(sample.rglob("*.yaml")):
        if path.name == "teams.yaml":
            continue
        doc = yaml.safe_load(path.read_text())
        kind = doc.get("kind") if isinstance(doc, dict) else None
        if kind == "CatalogItem":
            items.append((path.parent.name, doc))
        elif kind == "CatalogBundle":
            bundles.append(doc)
    ids = []
    copies: dict[str, str] = {}  # sample item id -> its first copy, which bundle copies name
    for n in range(documents):
        if n % 10 == 9 and bundles:
            doc = copy.deepcopy(bundles[n % len(bundles)])
            folder = "bundles"
            for component in doc["components"]:
                component["catalogItem"] = copies[component["catalogItem"]]
        else:
            folder, original = items[n % len(items)]
            doc = copy.deepcopy(original)
        first, second, *rest = doc["metadata"]["id"].split("-")
        new_id = "-".join([first, f"{second}{n:04d}", *rest])
        old_id = doc["metadata"]["id"]
        copies.setdefault(old_id, new_id)
        # Every mention (metadata.id, `.metadata.<own id>.<key>` variables) now names the copy.
        text = yaml.safe_dump(doc, sort_keys=False).replace(old_id, new_id)
        (target / folder).mkdir(exist_ok=True)
        (target / folder / f"{new_id}.yaml").write_text(text)
        ids.append(new_id)
    return ids


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def start_server(catalog_dir: Path, data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    env = {
        **os.environ,
        "PAO_CATALOG_DIR": str(catalog_dir),
        "PAO_DATA_DIR": str(data_dir),
        "PAO_DEMO_PROVISIONER": "true",
        "PAO_ENVIRONMENT": "development",
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", "pao_backend.app:create_app"]
    command += [
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--lifespan",
        "off",
        "--log-level",
        "info",
        "--no-access-log",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line and process.poll() is not None:
            raise RuntimeError("uvicorn exited before it listened")
        match = re.search(r"running on (http://127\.0\.0\.1:\d+)", line, re.IGNORECASE)
        if match:
            return process, match.group(1)
    process.kill()
    raise RuntimeError("uvicorn did not start within 120 s")


def sequential(client: httpx.Client, paths: list[str]) -> list[float]:
    latencies = []
    for path in paths:
        start = time.perf_counter()
        response = client.get(path)
        latencies.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
    return latencies


async def concurrent(base_url: str, paths: list[str], clients: int, seconds: float) -> tuple[int, float]:
    done = 0
    stop = time.perf_counter() + seconds

    async def worker(seed: int) -> None:
        nonlocal done
        rng = random.Random(seed)
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            while time.perf_counter() < stop:
                response = await client.get(rng.choice(paths))
                response.raise_for_status()
                done += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(clients)))
    return done, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=300, help="sequential requests per endpoint")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of the concurrent run")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="pao-bench-") as tmp:
        catalog_dir = Path(tmp) / "catalog"
        catalog_dir.mkdir()
        ids = generate(ROOT / "catalog", catalog_dir, args.documents)
        start = time.perf_counter()
        result = load_catalog(catalog_dir)
        load_seconds = time.perf_counter() - start
        catalog = result.catalog
        served = len(catalog.offerings())
        if served != args.documents:
            errors = [str(p) for p in result.problems if p.is_error][:5]
            raise SystemExit(f"only {served} of {args.documents} documents loaded: {errors}")

        runs = []
        for _ in range(5):
            start = time.perf_counter()
            entities = translate_catalog(catalog, base_url="http://127.0.0.1:8000")
            runs.append(time.perf_counter() - start)
        translate_seconds = statistics.median(runs)
        print(
            f"documents: {served} (+{len(catalog.teams)} teams), loaded and validated in {load_seconds:.2f} s"
        )
        verdict = "OK" if translate_seconds < 1 else "MISSED"
        print(
            f"translate {len(entities)} entities: median {translate_seconds * 1000:.0f} ms, "
            f"best {min(runs) * 1000:.0f} ms (target < 1000 ms: {verdict})"
        )

        process, base_url = start_server(catalog_dir, Path(tmp) / "data")
        try:
            rng = random.Random(7)
            query = f"{QUERY}?filter=kind=template"
            schema_paths = [
                f"/api/scaffolder/v2/templates/default/template/{rng.choice(ids)}/parameter-schema"
                for _ in range(args.requests)
            ]
            with httpx.Client(base_url=base_url, timeout=60) as client:
                warm = time.perf_counter()
                client.get(query).raise_for_status()  # builds the entity index for this catalog version
                print(
                    f"first request (builds the entity index): {(time.perf_counter() - warm) * 1000:.0f} ms"
                )
                sequential(client, [query] * 20 + schema_paths[:20])
                results = {
                    "by-query kind=template": sequential(client, [query] * args.requests),
                    "parameter-schema": sequential(client, schema_paths),
                }
            for name, latencies in results.items():
                p50, p99 = statistics.median(latencies), percentile(latencies, 0.99)
                verdict = "OK" if p99 < 50 else "MISSED"
                print(
                    f"{name:<24} median {p50:6.2f} ms   p99 {p99:6.2f} ms   (target p99 < 50 ms: {verdict})"
                )
            count, elapsed = asyncio.run(
                concurrent(base_url, [query, *schema_paths[:50]], args.clients, args.seconds)
            )
            rate = count / elapsed
            print(f"{args.clients} concurrent clients: {rate:.0f} requests/s ({count} in {elapsed:.1f} s)")
        finally:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
