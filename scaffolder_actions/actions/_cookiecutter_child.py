"""Runs cookiecutter in a child process: cookiecutter changes the working directory (os.chdir), which
would disturb every other thread of a server. Reads a JSON job on stdin, writes a JSON result on stdout."""

from __future__ import annotations

import json
import sys
from typing import Any


def main() -> None:
    job: dict[str, Any] = json.loads(sys.stdin.read())
    try:
        from cookiecutter.main import cookiecutter

        project = cookiecutter(
            job["template"],
            checkout=job.get("checkout"),
            no_input=True,
            extra_context=job["values"],
            output_dir=job["outputDir"],
            config_file=job["configFile"],
            directory=job.get("directory"),
            accept_hooks=job.get("acceptHooks", True),
        )
    except Exception as exc:
        json.dump({"error": {"type": type(exc).__name__, "message": str(exc)}}, sys.stdout)
        sys.exit(1)
    json.dump({"project": project}, sys.stdout)


if __name__ == "__main__":
    main()
