"""A provisioner that answers at once, for bench/orchestrate.py: raw asyncio HTTP/1.1 with keep-alive,
answering the shapes the sample catalog's automatic actions read (the demo provisioner's, without a web
framework's cost, so that the benchmark measures PAO and not its backend).

    python bench/loopback_provisioner.py PORT
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
from typing import Any

counter = itertools.count(1)


def answer(path: str) -> dict[str, Any]:
    n = next(counter)
    if "/databases" in path:
        return {"id": f"db-{n}", "connection": {"url": f"postgresql://db-{n}:5432/x", "host": f"db-{n}"}}
    if "/secrets/" in path:
        return {"id": f"s-{n}", "path": f"secret/{n}", "ref": f"vault://{n}"}
    return {"id": f"r-{n}", "url": f"https://r-{n}.example", "fqdn": f"r-{n}.example"}


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            length = 0
            for line in lines[1:]:
                if line.lower().startswith("content-length:"):
                    length = int(line.split(":", 1)[1])
            if length:
                await reader.readexactly(length)
            body = json.dumps(answer(path)).encode()
            writer.write(
                b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\n\r\n"
                + body
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(port: int) -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
