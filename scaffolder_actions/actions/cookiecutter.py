"""pao:cookiecutter — render a cookiecutter template with values into the workspace."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import Field, field_validator

from scaffolder_actions._action import Action, ActionModel, Example
from scaffolder_actions._context import ActionContext
from scaffolder_actions._errors import (
    ActionConfigurationError,
    ActionInputError,
    ActionTimeoutError,
    BackendRejectedError,
    BackendUnavailableError,
)

_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])


class CookiecutterInput(ActionModel):
    template: str = Field(
        min_length=1,
        description="A folder of PAO's templates/ (e.g. `service-python`), or a path/URL PAO allows",
    )
    values: dict[str, Any] = Field(
        default_factory=dict, description="Cookiecutter variables (override cookiecutter.json defaults)"
    )
    output: str = Field(".", description="Workspace folder that receives the rendered files")

    @field_validator("output", mode="before")
    @classmethod
    def _default_output(cls, value: Any) -> Any:
        return "." if value is None or value == "" else value


class CookiecutterOutput(ActionModel):
    path: str = Field(description="The output folder, relative to the workspace")
    files: list[str] = Field(description="Rendered files, relative to `path`, sorted")


EXAMPLES = [
    Example(
        description="Render the Python service skeleton into the workspace folder `service`",
        example="""\
steps:
  - id: scaffold
    name: Render the service skeleton
    action: pao:cookiecutter
    input:
      template: service-python
      values:
        name: orders-api
        description: Orders API
        owner: payments
      output: service
""",
        input={
            "template": "service-python",
            "values": {"name": "orders-api", "description": "Orders API", "owner": "payments"},
            "output": "service",
        },
        expected={"path": "service"},
        notes="`files` lists what was rendered; commit them with pao:git-commit `fromWorkspace: service`.",
    ),
]


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _relative_output(output: str, workspace: Path) -> tuple[Path, str]:
    pure = PurePosixPath(output.replace("\\", "/"))
    target = (workspace / pure).resolve()
    if pure.is_absolute() or not _inside(target, workspace.resolve()):
        raise ActionInputError(
            f"output {output!r} leaves the workspace; use a relative folder such as `service`",
            details={"errors": [{"path": "output", "message": "must stay inside the workspace"}]},
        )
    relative = target.relative_to(workspace.resolve()).as_posix() or "."
    return target, relative


def _list_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink())


class _Resolved:
    def __init__(self, source: str, variables: dict[str, Any] | None) -> None:
        self.source = source
        self.variables = variables


def _resolve_template(template: str, root: Path | None, allowed: Sequence[str]) -> _Resolved:
    looks_remote = "://" in template or template.startswith(("git@", "gh:", "gl:", "bb:"))
    if looks_remote or Path(template).is_absolute():
        if not any(template.startswith(prefix) for prefix in allowed):
            raise ActionInputError(
                f"template {template!r} is neither a folder of the templates root nor an allowed location; "
                "name a template such as `service-python`, or ask PAO's operators to allow its location",
                details={"errors": [{"path": "template", "message": "location not allowed"}]},
            )
        if looks_remote:
            return _Resolved(template, None)
        path = Path(template)
    else:
        if root is None:
            raise ActionConfigurationError(
                "pao:cookiecutter has no templates root; set PAO_TEMPLATES_DIR to the folder of templates"
            )
        base = root.resolve()
        path = (base / template).resolve()
        if not _inside(path, base) or path == base:
            raise ActionInputError(
                f"template {template!r} leaves the templates folder; name a folder inside it",
                details={
                    "errors": [{"path": "template", "message": "must be a folder inside the templates root"}]
                },
            )
    config = path / "cookiecutter.json"
    if not config.is_file():
        available = sorted(p.parent.name for p in root.glob("*/cookiecutter.json")) if root else []
        raise ActionConfigurationError(
            f"template {template!r} not found (no cookiecutter.json in it); available: "
            f"{', '.join(available) or 'none'}",
            details={"template": template, "available": available},
        )
    try:
        variables = json.loads(config.read_text())
    except ValueError as exc:
        raise ActionConfigurationError(
            f"template {template!r}: cookiecutter.json is not valid JSON ({exc})"
        ) from None
    return _Resolved(str(path), variables if isinstance(variables, dict) else None)


async def _render(
    ctx: ActionContext[CookiecutterInput], source: str, into: Path, scratch: Path, timeout: float
) -> Path:
    """Run cookiecutter in a child process; returns the generated project folder."""
    config = scratch / "cookiecutter-config.json"
    config.write_text(
        json.dumps({"cookiecutters_dir": str(scratch / "clones"), "replay_dir": str(scratch / "replay")})
    )
    job = {
        "template": source,
        "values": ctx.input.values,
        "outputDir": str(into),
        "configFile": str(config),
    }
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [_PACKAGE_PARENT, os.environ.get("PYTHONPATH")])),
    }
    env["GIT_TERMINAL_PROMPT"] = "0"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "scaffolder_actions.actions._cookiecutter_child",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=str(scratch),
        env=env,
    )
    try:
        stdout, stderr = await ctx.until_cancelled(
            proc.communicate(json.dumps(job).encode()), timeout=timeout
        )
    except TimeoutError:
        raise ActionTimeoutError(
            f"cookiecutter did not finish rendering {ctx.input.template!r} within {timeout:g}s; "
            "check the template's hooks"
        ) from None
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    try:
        answer = json.loads(stdout.decode() or "{}")
    except ValueError:
        answer = {}
    if proc.returncode != 0 or "project" not in answer:
        error = answer.get("error") or {"type": "Crash", "message": stderr.decode(errors="replace")[-2000:]}
        kind, message = error["type"], error["message"]
        where = f"template {ctx.input.template!r}"
        if kind == "ValueError" or kind == "UndefinedVariableInTemplate":
            raise ActionInputError(
                f"{where} cannot be rendered with these values: {message}",
                details={"errors": [{"path": "values", "message": message}]},
            )
        if kind in ("RepositoryCloneFailed", "RepositoryNotFound", "VCSNotInstalled"):
            raise BackendUnavailableError(f"{where} could not be fetched: {message}")
        if kind == "FailedHookException":
            raise BackendRejectedError(f"{where}: a hook of the template failed: {message}")
        raise ActionConfigurationError(f"{where} failed to render ({kind}): {message}; fix the template")
    return Path(answer["project"])


def create_cookiecutter_action(
    *,
    templates_root: Path | None,
    allowed_locations: Sequence[str] = (),
    timeout: float = 300.0,
) -> Action[CookiecutterInput]:
    """`pao:cookiecutter`. Templates are folders under `templates_root`; absolute paths or URLs only when
    they start with one of `allowed_locations` (e.g. `https://github.com/acme/templates`)."""
    allowed = tuple(allowed_locations)

    async def handler(ctx: ActionContext[CookiecutterInput]) -> None:
        resolved = _resolve_template(ctx.input.template, templates_root, allowed)
        target, relative = _relative_output(ctx.input.output, ctx.workspace)
        if resolved.variables is not None:
            unknown = sorted(set(ctx.input.values) - set(resolved.variables))
            if unknown:
                ctx.logger.warning(
                    f"values {', '.join(unknown)} are not variables of template "
                    f"{ctx.input.template!r}; ignored"
                )
        ctx.logger.info(f"rendering template {ctx.input.template!r} into {relative!r}")
        with tempfile.TemporaryDirectory(prefix="pao-cookiecutter-") as tmp:
            scratch = Path(tmp)
            rendered_root = scratch / "out"
            rendered_root.mkdir()
            project = await _render(ctx, resolved.source, rendered_root, scratch, timeout)
            files = _list_files(project)
            if ctx.dry_run:
                ctx.logger.info(f"dry-run: would write {len(files)} files into {relative!r}")
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copytree(project, target, dirs_exist_ok=True, symlinks=True)
                ctx.logger.info(f"rendered {len(files)} files into {relative!r}")
        ctx.output("path", relative)
        ctx.output("files", files)

    return Action(
        id="pao:cookiecutter",
        description=(
            "Renders a cookiecutter template (a folder of PAO's templates/) with the given values and puts "
            "the generated files into a workspace folder, ready for pao:git-commit. No Docker needed."
        ),
        input_model=CookiecutterInput,
        output_model=CookiecutterOutput,
        handler=handler,
        examples=EXAMPLES,
        supports_dry_run=True,
    )
