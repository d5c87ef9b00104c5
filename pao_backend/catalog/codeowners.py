"""CODEOWNERS: parse the file and answer "who owns this path" with GitHub's rules (the last match wins).

Patterns follow gitignore: `/x` is anchored at the repository root, a pattern with a slash inside is
anchored too, one without matches at any depth, `dir/` matches everything below, `*` stays inside one
path segment, `**` crosses segments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pao_backend.catalog.problems import Problem

__all__ = ["CODEOWNERS_LOCATIONS", "CodeOwners", "OwnerRule", "find_codeowners", "parse_codeowners"]

# Where GitHub looks, in its order of preference.
CODEOWNERS_LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
_OWNER = re.compile(r"^(@[A-Za-z0-9-]+(/[A-Za-z0-9._-]+)?|[^@\s]+@[^@\s]+\.[^@\s]+)$")


@dataclass(frozen=True)
class OwnerRule:
    pattern: str
    owners: tuple[str, ...]
    line: int
    regex: re.Pattern[str] = field(repr=False, compare=False)

    def matches(self, path: str) -> bool:
        return self.regex.match(path.lstrip("/")) is not None


@dataclass
class CodeOwners:
    """The rules of one CODEOWNERS file, in file order."""

    path: str
    rules: list[OwnerRule] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def rule_for(self, path: str) -> OwnerRule | None:
        """The rule that decides the owners of a repository path (the last matching one)."""
        for rule in reversed(self.rules):
            if rule.matches(path):
                return rule
        return None

    def owners_for(self, path: str) -> tuple[str, ...]:
        """Owners of a repository-relative path (posix); empty when nobody owns it."""
        rule = self.rule_for(path)
        return rule.owners if rule else ()


def _translate(pattern: str) -> re.Pattern[str]:
    dir_only = pattern.endswith("/")
    body = pattern.strip("/")
    anchored = pattern.startswith("/") or "/" in body
    out: list[str] = []
    i = 0
    while i < len(body):
        if body.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif body.startswith("/**", i) and i + 3 == len(body):
            out.append("(?:/.*)?")
            i += 3
        elif body.startswith("**", i):
            out.append(".*")
            i += 2
        elif body[i] == "*":
            out.append("[^/]*")
            i += 1
        elif body[i] == "?":
            out.append("[^/]")
            i += 1
        elif body[i] == "\\" and i + 1 < len(body):
            out.append(re.escape(body[i + 1]))
            i += 2
        else:
            out.append(re.escape(body[i]))
            i += 1
    prefix = "" if anchored else "(?:.*/)?"
    suffix = "/.*" if dir_only else "(?:/.*)?"
    if not body:  # "/" or "*": everything
        return re.compile(".*")
    return re.compile(prefix + "".join(out) + suffix + r"\Z")


def parse_codeowners(text: str, path: str = "CODEOWNERS") -> CodeOwners:
    """Parse CODEOWNERS text; malformed lines become problems (code E706) and are skipped."""
    result = CodeOwners(path=path)
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = re.split(r"(?<!\\)\s#", line, maxsplit=1)[0]
        pattern, *owners = line.split()
        bad = [owner for owner in owners if not _OWNER.match(owner)]
        if bad:
            result.problems.append(
                Problem(
                    path,
                    number,
                    raw.find(bad[0]) + 1,
                    "error",
                    "E706",
                    f"`{bad[0]}` is not a CODEOWNERS owner",
                    "owners are @user, @org/team or an e-mail address",
                )
            )
            continue
        if pattern.startswith("!") or "[" in pattern:
            result.problems.append(
                Problem(
                    path,
                    number,
                    1,
                    "error",
                    "E706",
                    f"pattern `{pattern}` uses syntax CODEOWNERS does not support",
                    "CODEOWNERS has no `!` negation and no `[...]` ranges; list the paths",
                )
            )
            continue
        result.rules.append(OwnerRule(pattern, tuple(owners), number, _translate(pattern)))
    return result


def find_codeowners(repository: Path) -> Path | None:
    """The CODEOWNERS file GitHub would use for a repository folder, if any."""
    for location in CODEOWNERS_LOCATIONS:
        candidate = repository / location
        if candidate.is_file():
            return candidate
    return None
