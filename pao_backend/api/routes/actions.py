"""The remote-invoke API of the action library, mounted with PAO's identity check.

`scaffolder_actions.http` does the work; this edge only decides who may call it: any authenticated caller
(a Backstage service token acting on behalf of a user, a Backstage user token, or the dev identity), whose
ref and teams reach the action as `ctx.metadata["user"]` / `["teams"]`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request

from pao_backend.api.deps import get_current_user
from pao_backend.settings import Settings
from scaffolder_actions import ActionRegistry
from scaffolder_actions.http import create_actions_router


async def _authorize(request: Request, action_id: str | None) -> dict[str, Any]:
    user = await asyncio.to_thread(get_current_user, request)
    return {"user": user.ref, "teams": list(user.teams)}


def actions_router(registry: ActionRegistry, settings: Settings) -> APIRouter:
    """GET /api/pao/v1/actions and POST /api/pao/v1/actions/{id}:invoke for `registry`."""
    return create_actions_router(
        registry, workspace_root=settings.data_dir / "workspaces", authorize=_authorize
    )
