"""Who is calling: an Identity with its teams and roles."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from pao_backend.errors import NotAllowedError

Via = Literal["jwt", "service", "dev"]

# Backstage entity refs: `kind:namespace/name`, e.g. `user:default/jdoe`, `group:default/platform-dbs`.
_ENTITY_REF = re.compile(r"^(?:(?P<kind>[A-Za-z][\w-]*):)?(?:(?P<ns>[\w.-]+)/)?(?P<name>[\w.@+-]+)$")


class Role(StrEnum):
    DEVELOPER = "developer"
    TEAM_MEMBER = "team-member"
    ADMIN = "admin"


@dataclass(frozen=True)
class EntityRef:
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.namespace}/{self.name}"


def parse_entity_ref(ref: str, *, default_kind: str) -> EntityRef | None:
    """`user:default/jdoe`, `default/jdoe` or `jdoe` (kind and namespace defaulted); None if malformed."""
    match = _ENTITY_REF.match(ref.strip())
    if match is None:
        return None
    return EntityRef(
        kind=(match.group("kind") or default_kind).lower(),
        namespace=match.group("ns") or "default",
        name=match.group("name"),
    )


@dataclass(frozen=True)
class Identity:
    """The caller. `ref` is a Backstage user entity ref; `teams` are team (group) names."""

    ref: str
    name: str
    email: str = ""
    teams: tuple[str, ...] = ()
    roles: frozenset[Role] = frozenset({Role.DEVELOPER})
    via: Via = "dev"
    # The PAO team ids (teams.yaml) among `teams`: the inboxes this caller works.
    platform_teams: tuple[str, ...] = field(default=())
    # For service calls: the configured service token's name.
    service: str | None = None

    @property
    def id(self) -> str:
        return self.ref

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    def is_member(self, team_id: str) -> bool:
        """Whether the caller belongs to team `team_id` (admins count as members of every team)."""
        return self.is_admin or team_id in self.teams

    def require_admin(self) -> None:
        if not self.is_admin:
            raise NotAllowedError(f"{self.ref} is not an admin; ask a PAO operator to add you to PAO_ADMINS")

    def require_member(self, team_id: str) -> None:
        if not self.is_member(team_id):
            raise NotAllowedError(
                f"{self.ref} is not a member of team {team_id!r}; "
                "only that team's members (or admins) may do this"
            )


def roles_for(
    ref: str, teams: tuple[str, ...], *, team_ids: frozenset[str], admins: frozenset[str]
) -> frozenset[Role]:
    roles = {Role.DEVELOPER}
    if any(team in team_ids for team in teams):
        roles.add(Role.TEAM_MEMBER)
    if ref in admins:
        roles.add(Role.ADMIN)
    return frozenset(roles)
