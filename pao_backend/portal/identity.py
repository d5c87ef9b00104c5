"""Who is looking at the portal, as the pages need it (name to show, ref, teams)."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from pao_backend.settings import Settings


@dataclass(frozen=True)
class PortalUser:
    ref: str
    display: str
    email: str = ""
    teams: list[str] = field(default_factory=list)


def portal_user(request: Request) -> PortalUser:
    """The caller: the development identity until auth lands (see auth/)."""
    settings: Settings = request.app.state.settings
    ref = settings.dev_identity
    name = ref.split("/")[-1]
    return PortalUser(
        ref=ref, display=name, email=f"{name}@example.com", teams=list(settings.dev_identity_teams)
    )
