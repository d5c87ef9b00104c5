"""pao:git-commit — one atomic, idempotent commit to a git repository, with the real git CLI."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import AliasChoices, Field, field_validator, model_validator

from scaffolder_actions._action import Action, ActionModel, Example
from scaffolder_actions._context import ActionContext
from scaffolder_actions._errors import (
    ActionConfigurationError,
    ActionError,
    ActionInputError,
    ActionTimeoutError,
    BackendRejectedError,
    BackendUnavailableError,
    CredentialsRefusedError,
)

TRAILER = "PAO-Attempt"
_PUSH_ROUNDS = 3
_BRANCH_BAD = re.compile(r"[\s~^:?*\[\\]|@\{|\.lock$|/$|//|^-|^/|\.\.")
_SEARCH_DEPTH = 500


class Author(ActionModel):
    name: str = Field(min_length=1)
    email: str = Field(min_length=3)


class FileChange(ActionModel):
    path: str = Field(min_length=1, description="Path inside the repository, relative (no `..`)")
    operation: Literal["create", "update", "delete"]
    content: str | None = Field(None, description="The file's new text (create/update)")

    @field_validator("path")
    @classmethod
    def _relative(cls, value: str) -> str:
        _check_relative(value)
        return value

    @model_validator(mode="after")
    def _content_for_writes(self) -> FileChange:
        if self.operation != "delete" and self.content is None:
            raise ValueError(f"{self.operation} of {self.path!r} needs `content`")
        return self


class GitCommitInput(ActionModel):
    repository: str = Field(
        min_length=1,
        description="A configured repository name, a git URL, or a local path (e.g. a bare repo)",
    )
    branch: str = Field("main", description="Branch to commit to (the base branch with createPullRequest)")
    files: list[FileChange] = Field(default_factory=list)
    from_workspace: str | None = Field(
        None,
        validation_alias=AliasChoices("fromWorkspace", "source", "from_workspace"),
        serialization_alias="fromWorkspace",
        description="A workspace folder whose whole tree is committed (e.g. pao:cookiecutter's output)",
    )
    target_path: str = Field(".", description="Repository folder that receives `fromWorkspace`")
    commit_message: str = Field(min_length=1)
    author: Author | None = None
    create_pull_request: bool = Field(
        False, description="Push to a new branch `pao/<attempt>` for review instead of committing to `branch`"
    )
    create_repository: bool = Field(
        False, description="Create the (local, bare) repository if it does not exist"
    )

    @field_validator("branch", mode="before")
    @classmethod
    def _default_branch(cls, value: Any) -> Any:
        return "main" if value is None or value == "" else value

    @field_validator("target_path", mode="before")
    @classmethod
    def _default_target(cls, value: Any) -> Any:
        return "." if value is None or value == "" else value

    @field_validator("branch")
    @classmethod
    def _valid_branch(cls, value: str) -> str:
        if _BRANCH_BAD.search(value):
            raise ValueError(f"{value!r} is not a valid git branch name")
        return value

    @field_validator("from_workspace", "target_path")
    @classmethod
    def _relative_folder(cls, value: str | None) -> str | None:
        if value is not None and value != ".":
            _check_relative(value)
        return value

    @model_validator(mode="after")
    def _something_to_commit(self) -> GitCommitInput:
        if not self.files and self.from_workspace is None:
            raise ValueError("give `files` or `fromWorkspace` (or both): there is nothing to commit")
        return self


class GitCommitOutput(ActionModel):
    commit: str | None = Field(description="The commit's sha (None in dry-run or when nothing changed)")
    branch: str = Field(description="The branch that holds the commit (`pao/...` with createPullRequest)")
    repository: str = Field(description="The repository, credentials masked")
    pull_request_url: str | None = Field(None, description="Always None: PAO has no pull-request server")
    pull_request: dict[str, Any] | None = None
    files: list[str] = Field(description="Paths changed by the commit")


EXAMPLES = [
    Example(
        description="Commit a rendered skeleton (pao:cookiecutter output) to a new repository's main branch",
        example="""\
steps:
  - id: publish
    name: Commit the service
    action: pao:git-commit
    input:
      repository: services
      branch: main
      fromWorkspace: service
      commitMessage: "Scaffold orders-api"
      createRepository: true
""",
        input={
            "repository": "services",
            "branch": "main",
            "fromWorkspace": "service",
            "commitMessage": "Scaffold orders-api",
            "createRepository": True,
        },
        expected={"branch": "main"},
        notes="`repository` may name a configured repository (PAO_REPOSITORIES), a git URL or a local path.",
    ),
    Example(
        description="Create, update and delete files in one commit, on a review branch",
        example="""\
steps:
  - id: config
    name: Register the database in the platform config
    action: pao:git-commit
    input:
      repository: services
      branch: main
      createPullRequest: true
      commitMessage: "Add orders-db"
      files:
        - path: databases/orders-db.yaml
          operation: create
          content: "name: orders-db\\nclass: small\\n"
        - path: README.md
          operation: update
          content: "# Services\\n\\n- orders-db\\n"
""",
        input={
            "repository": "services",
            "branch": "main",
            "createPullRequest": True,
            "commitMessage": "Add orders-db",
            "files": [
                {
                    "path": "databases/orders-db.yaml",
                    "operation": "create",
                    "content": "name: orders-db\nclass: small\n",
                },
                {"path": "README.md", "operation": "update", "content": "# Services\n\n- orders-db\n"},
            ],
        },
        notes="With createPullRequest the commit lands on `pao/<attempt>`; open the pull request there.",
    ),
]


def _check_relative(value: str) -> None:
    pure = PurePosixPath(value.replace("\\", "/"))
    if pure.is_absolute() or re.match(r"^[A-Za-z]:", value) or ".." in pure.parts:
        raise ValueError(f"{value!r} must be a relative path without `..`")
    if pure.parts and pure.parts[0] == ".git":
        raise ValueError(f"{value!r} must not point into .git")


def attempt_branch(attempt_key: str) -> str:
    """The review branch for an attempt: `pao/<slug>-<8 hex of the key>` (stable, valid, unique)."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", attempt_key).strip("-.")[:60].rstrip("-.") or "attempt"
    slug = slug.replace("..", ".")
    return f"pao/{slug}-{hashlib.sha256(attempt_key.encode()).hexdigest()[:8]}"


def _is_url(repository: str) -> bool:
    return "://" in repository or bool(re.match(r"^[\w.-]+@[\w.-]+:", repository))


def _display(repository: str) -> str:
    if "://" not in repository:
        return repository
    parts = urlsplit(repository)
    if parts.password or parts.username:
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return parts._replace(netloc=f"***@{host}").geturl()
    return repository


def _credentials_out_of_url(location: str) -> tuple[str, str | None]:
    """An http(s) URL without its user:password, and the Basic Authorization header that carries them."""
    if not location.startswith(("http://", "https://")):
        return location, None
    parts = urlsplit(location)
    if not parts.username and not parts.password:
        return location, None
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
    header = "Authorization: Basic " + base64.b64encode(pair.encode()).decode()
    return parts._replace(netloc=host).geturl(), header


class _Git:
    """Runs git (no shell) in one working directory; classifies failures."""

    def __init__(
        self,
        ctx: ActionContext[GitCommitInput],
        binary: str,
        timeout: float,
        display: str,
        *,
        auth_header: str | None = None,
    ) -> None:
        self.ctx = ctx
        self.binary = binary
        self.timeout = timeout
        self.display = display
        self.env = {
            **os.environ,
            "GIT_TERMINAL_PROMPT": "0",
            "LC_ALL": "C",
            "GIT_CONFIG_NOSYSTEM": "1",
        }
        if auth_header:
            # In the environment (readable by this user only), not in argv (readable by everyone via ps).
            self.env.update(
                {
                    "GIT_CONFIG_COUNT": "1",
                    "GIT_CONFIG_KEY_0": "http.extraHeader",
                    "GIT_CONFIG_VALUE_0": auth_header,
                }
            )

    async def __call__(self, *args: str, cwd: Path | None = None, check: bool = True) -> tuple[int, str, str]:
        self.ctx.raise_if_cancelled()
        proc = await asyncio.create_subprocess_exec(
            self.binary,
            "-c",
            "commit.gpgsign=false",
            "-c",
            "core.hooksPath=/dev/null",
            *args,
            cwd=str(cwd) if cwd else None,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self.env,
        )
        try:
            out, err = await self.ctx.until_cancelled(proc.communicate(), timeout=self.timeout)
        except TimeoutError:
            raise ActionTimeoutError(
                f"git {args[0]} on {self.display} did not finish within {self.timeout:g}s; "
                "check that the git server answers"
            ) from None
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        code = proc.returncode or 0
        stdout, stderr = out.decode(errors="replace"), err.decode(errors="replace")
        if check and code != 0:
            raise self.classify(args[0], stderr)
        return code, stdout, stderr

    def classify(self, command: str, stderr: str) -> ActionError:
        text = stderr.strip()[-1500:]
        lowered = text.lower()
        details = {"command": f"git {command}", "stderr": text}
        if any(
            s in lowered
            for s in ("authentication failed", "could not read username", "permission denied", "403", "401")
        ):
            return CredentialsRefusedError(
                f"git {command}: {self.display} refused the credentials: {text}; check the repository token",
                details=details,
            )
        if any(
            s in lowered
            for s in ("could not resolve host", "connection refused", "timed out", "unable to access")
        ):
            return BackendUnavailableError(
                f"git {command}: {self.display} could not be reached: {text}", details=details
            )
        if "does not appear to be a git repository" in lowered or "not found" in lowered:
            return ActionConfigurationError(
                f"git {command}: repository {self.display} does not exist: {text}; check `repository` "
                "(or set createRepository: true for a local repository)",
                details=details,
            )
        return BackendRejectedError(f"git {command} on {self.display} failed: {text}", details=details)


def _apply_files(ctx: ActionContext[GitCommitInput], work: Path, branch: str) -> None:
    for index, change in enumerate(ctx.input.files):
        target = work / change.path
        where = f"files[{index}] ({change.operation} {change.path!r})"
        resolved, root = target.resolve(), work.resolve()
        if root not in resolved.parents:
            raise ActionInputError(
                f"{where}: the path leaves the repository (through a symlink?); use a plain relative path",
                details={"errors": [{"path": f"files.{index}.path", "message": "leaves the repository"}]},
            )
        if change.operation == "create":
            if target.exists():
                raise BackendRejectedError(
                    f"{where}: the file already exists on branch {branch!r}; use operation `update`",
                    details={"path": change.path, "operation": change.operation},
                )
        elif not target.is_file():
            raise BackendRejectedError(
                f"{where}: no such file on branch {branch!r}; use operation `create` or fix the path",
                details={"path": change.path, "operation": change.operation},
            )
        if change.operation == "delete":
            target.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(change.content or "")


def _copy_workspace(ctx: ActionContext[GitCommitInput], work: Path) -> None:
    folder = ctx.input.from_workspace
    if folder is None:
        return
    source = (ctx.workspace / folder).resolve()
    if not source.is_dir():
        raise ActionInputError(
            f"fromWorkspace {folder!r} is not a folder of the workspace; did its rendering step run?",
            details={"errors": [{"path": "fromWorkspace", "message": "no such workspace folder"}]},
        )
    destination = work / ctx.input.target_path
    shutil.copytree(
        source, destination, dirs_exist_ok=True, symlinks=True, ignore=shutil.ignore_patterns(".git")
    )


def create_git_commit_action(
    *,
    repositories: Mapping[str, str] | None = None,
    allow_local_paths: bool = True,
    default_author: tuple[str, str] = ("PAO", "pao@localhost"),
    git_binary: str = "git",
    timeout: float = 120.0,
) -> Action[GitCommitInput]:
    """`pao:git-commit`. `repositories` maps names (used in catalog documents) to URLs or local paths."""
    named: dict[str, str] = dict(repositories or {})

    def resolve(ctx: ActionContext[GitCommitInput]) -> tuple[str, bool]:
        """(location, is_local) of the input's repository."""
        location = named.get(ctx.input.repository, ctx.input.repository)
        if "://" in location:
            parts = urlsplit(location)
            if parts.password:
                ctx.add_secret(parts.password)
                ctx.add_secret(unquote(parts.password))
            if parts.scheme == "file":
                return location, True
        if _is_url(location):
            return location, False
        if not allow_local_paths:
            raise ActionInputError(
                f"repository {ctx.input.repository!r} is neither a configured repository nor a URL; "
                f"configured: {', '.join(sorted(named)) or 'none'}",
                details={"errors": [{"path": "repository", "message": "unknown repository"}]},
            )
        return str(Path(location).expanduser().resolve()), True

    async def handler(ctx: ActionContext[GitCommitInput]) -> None:
        inp = ctx.input
        location, local = resolve(ctx)
        display = _display(location)
        location, auth_header = _credentials_out_of_url(location)
        if auth_header:
            ctx.add_secret(auth_header)
        git = _Git(ctx, git_binary, timeout, display, auth_header=auth_header)
        target_branch = attempt_branch(ctx.attempt_key) if inp.create_pull_request else inp.branch
        author_name, author_email = (inp.author.name, inp.author.email) if inp.author else default_author

        if local and "://" not in location and not Path(location).exists():
            if not inp.create_repository:
                raise ActionConfigurationError(
                    f"repository {display} does not exist; create it or set createRepository: true",
                    details={"repository": display},
                )
            if ctx.dry_run:
                ctx.logger.info(f"dry-run: would create bare repository {display}")
            else:
                Path(location).parent.mkdir(parents=True, exist_ok=True)
                await git("init", "--quiet", "--bare", f"--initial-branch={inp.branch}", location)
                ctx.logger.info(f"created bare repository {display}")

        def finish(commit: str | None, files: list[str]) -> None:
            ctx.output("commit", commit)
            ctx.output("branch", target_branch)
            ctx.output("repository", display)
            ctx.output("pullRequestUrl", None)
            ctx.output("files", files)
            if inp.create_pull_request:
                ctx.output(
                    "pullRequest",
                    {
                        "created": False,
                        "base": inp.branch,
                        "head": target_branch,
                        "note": "PAO has no pull-request server configured; the branch was pushed — "
                        "open the pull request from it in your git host",
                    },
                )

        with tempfile.TemporaryDirectory(prefix="pao-git-") as tmp:
            for round_ in range(1, _PUSH_ROUNDS + 1):
                work = Path(tmp) / f"work-{round_}"
                await git("init", "--quiet", f"--initial-branch={target_branch}", str(work))
                remote_exists = not (local and "://" not in location and not Path(location).exists())
                heads: dict[str, str] = {}
                if remote_exists:
                    _, listing, _ = await git("ls-remote", "--heads", location, cwd=work)
                    for line in listing.splitlines():
                        sha, _, ref = line.partition("\t")
                        heads[ref.removeprefix("refs/heads/")] = sha

                # Idempotency: a commit of this attempt already on the target branch is the answer.
                if target_branch in heads:
                    await git(
                        "fetch", "--quiet", "--no-tags", location, f"refs/heads/{target_branch}", cwd=work
                    )
                    _, log, _ = await git(
                        "log",
                        f"-n{_SEARCH_DEPTH}",
                        f"--format=%H %(trailers:key={TRAILER},valueonly,separator=%x2C)",
                        "FETCH_HEAD",
                        cwd=work,
                    )
                    for line in log.splitlines():
                        sha, _, values = line.partition(" ")
                        if ctx.attempt_key in [v.strip() for v in values.split(",")]:
                            _, names, _ = await git("show", "--format=", "--name-only", sha, cwd=work)
                            ctx.logger.info(
                                f"{display} {target_branch} already has commit {sha[:12]} of this attempt; "
                                "not committing again"
                            )
                            finish(sha, sorted(n for n in names.splitlines() if n))
                            return

                base = target_branch if target_branch in heads else inp.branch
                if base in heads:
                    await git("fetch", "--quiet", "--no-tags", location, f"refs/heads/{base}", cwd=work)
                    await git("checkout", "--quiet", "-B", target_branch, "FETCH_HEAD", cwd=work)
                elif inp.create_pull_request and heads:
                    raise BackendRejectedError(
                        f"base branch {inp.branch!r} does not exist in {display}; fix `branch`",
                        details={"branch": inp.branch},
                    )
                else:
                    ctx.logger.info(
                        f"branch {base!r} does not exist in {display} yet; it starts with this commit"
                    )

                _apply_files(ctx, work, base)
                _copy_workspace(ctx, work)
                await git("add", "--all", cwd=work)
                _, changed, _ = await git("diff", "--cached", "--name-only", cwd=work)
                files = sorted(n for n in changed.splitlines() if n)
                if not files:
                    head = heads.get(base)
                    ctx.logger.info(f"nothing to commit: {display} {base} already has these contents")
                    finish(head, [])
                    return
                if ctx.dry_run:
                    ctx.logger.info(f"dry-run: would commit {len(files)} files to {display} {target_branch}")
                    finish(None, files)
                    return

                await git(
                    "-c",
                    f"user.name={author_name}",
                    "-c",
                    f"user.email={author_email}",
                    "commit",
                    "--quiet",
                    "-m",
                    inp.commit_message,
                    "--trailer",
                    f"{TRAILER}: {ctx.attempt_key}",
                    cwd=work,
                )
                _, sha, _ = await git("rev-parse", "HEAD", cwd=work)
                sha = sha.strip()
                code, _, stderr = await git(
                    "push", "--quiet", location, f"HEAD:refs/heads/{target_branch}", cwd=work, check=False
                )
                if code == 0:
                    ctx.logger.info(f"committed {sha[:12]} ({len(files)} files) to {display} {target_branch}")
                    finish(sha, files)
                    return
                if "non-fast-forward" in stderr or "fetch first" in stderr or "[rejected]" in stderr:
                    ctx.logger.warning(f"{target_branch} moved while committing; starting over ({round_})")
                    continue
                raise git.classify("push", stderr)
        raise BackendRejectedError(
            f"{display} {target_branch} kept moving; gave up after {_PUSH_ROUNDS} rounds — retry the step",
            retryable=True,
        )

    return Action(
        id="pao:git-commit",
        description=(
            "Commits files (create/update/delete, and/or a whole workspace folder) to a git repository in "
            "one atomic commit, optionally on a review branch. Idempotent: a retried attempt finds its "
            "commit by the `PAO-Attempt` trailer instead of committing twice."
        ),
        input_model=GitCommitInput,
        output_model=GitCommitOutput,
        handler=handler,
        examples=EXAMPLES,
        supports_dry_run=True,
    )
