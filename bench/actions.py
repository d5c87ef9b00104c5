"""Benchmark: what pao:rest-api (validation, redaction, logging, the client per run) adds over a bare httpx
call to the same loopback server. Prints median/p99 per call and the ratio. Not part of the test run.

    .venv/bin/python bench/actions.py [calls]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scaffolder_actions import Credential, create_rest_api_action, run_action
from tests.support.rest_backend import RestBackend


def summary(name: str, samples: list[float]) -> float:
    ordered = sorted(samples)
    median = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(f"{name:<28} median {median * 1000:7.2f} ms   p99 {p99 * 1000:7.2f} ms   n={len(ordered)}")
    return median


async def main(calls: int) -> None:
    backend = RestBackend().start()
    url = f"{backend.url}/instances"
    body = '{"name": "bench", "class": "small"}'
    bare: list[float] = []
    async with httpx.AsyncClient() as client:
        for _ in range(calls):
            started = time.perf_counter()
            response = await client.post(url, content=body, headers={"Content-Type": "application/json"})
            response.json()
            bare.append(time.perf_counter() - started)
    fresh: list[float] = []
    for _ in range(calls):
        started = time.perf_counter()
        async with httpx.AsyncClient() as client:
            (await client.post(url, content=body, headers={"Content-Type": "application/json"})).json()
        fresh.append(time.perf_counter() - started)
    action = create_rest_api_action(credentials={"provisioner": Credential(token="bench-token-123")})
    pao: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(calls):
            started = time.perf_counter()
            result = await run_action(
                action,
                {
                    "url": url,
                    "method": "POST",
                    "body": body,
                    "retry": {"attempts": 3},
                    "authentication": {"type": "bearer", "credential": "provisioner"},
                },
                workspace=Path(tmp),
                attempt_key=f"bench/{i}",
                secrets={"dbPassword": "s3cret-value"},
            )
            assert result.ok, result.error
            pao.append(time.perf_counter() - started)
    backend.stop()
    b = summary("bare httpx (shared client)", bare)
    f = summary("bare httpx (new client+TLS ctx)", fresh)
    p = summary("pao:rest-api via run_action", pao)
    print(
        f"overhead vs shared client: {(p - b) * 1000:.2f} ms/call ({p / b:.2f}x); "
        f"vs new client per call: {(p - f) * 1000:.2f} ms/call ({p / f:.2f}x)"
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300))
