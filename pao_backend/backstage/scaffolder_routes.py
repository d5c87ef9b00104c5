"""`/api/scaffolder/v2`: parameter schemas, dry-run and templating extensions, as ScaffolderClient calls."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from pao_backend.api.deps import CatalogDep, CurrentUserDep, SettingsDep
from pao_backend.backstage.catalog_routes import EntityIndexDep, json_response
from pao_backend.backstage.dry_run import dry_run_result, preview_plan, preview_system
from pao_backend.backstage.parameters import parameter_schema, validate_parameters
from pao_backend.backstage.translate import ANNOTATION_CATALOG_ID, TEMPLATE_API_VERSION
from pao_backend.catalog.values import join_secrets, validate_values
from pao_backend.errors import InputError, NotFoundError

__all__ = ["scaffolder_router"]

scaffolder_router = APIRouter(prefix="/api/scaffolder/v2", tags=["backstage scaffolder"])


@scaffolder_router.get(
    "/templates/{namespace}/{kind}/{name}/parameter-schema",
    summary="A Template's form pages (namespace first), as ScaffolderClient.getTemplateParameterSchema",
    responses={
        200: {"description": "`{title, description, steps: [{title, description, schema}]}`"},
        400: {"description": "The kind is not `template`"},
        404: {"description": "No such Template"},
    },
)
def get_parameter_schema(index: EntityIndexDep, namespace: str, kind: str, name: str) -> Response:
    if kind.lower() != "template":
        raise InputError(f"Only template entities can be used as templates, got kind {kind!r}")
    template = index.get(kind, namespace, name)
    if template is None:
        raise NotFoundError(
            f"No entity named '{name}' found, with kind 'template' in namespace '{namespace}'"
        )
    return Response(
        index.derived(template, "parameter-schema", parameter_schema), media_type="application/json"
    )


class DirectoryEntry(BaseModel):
    path: str
    base64Content: str
    executable: bool | None = None


class DryRunRequest(BaseModel):
    template: dict[str, Any] = Field(description="A full scaffolder.backstage.io/v1beta3 Template entity")
    values: dict[str, Any] = Field(
        default_factory=dict, description="Form values, `{name, <groupId>: {...}}`"
    )
    secrets: dict[str, str] | None = Field(default=None, description="Secret values (password fields)")
    directoryContents: list[DirectoryEntry] = Field(default_factory=list)


def _offering_id(template: dict[str, Any]) -> str:
    if (
        template.get("apiVersion") != TEMPLATE_API_VERSION
        or str(template.get("kind", "")).lower() != "template"
        or not isinstance(template.get("spec"), dict)
        or not isinstance(template["spec"].get("steps"), list)
    ):
        raise InputError("Input template is not a template")
    metadata = template.get("metadata") or {}
    annotations = metadata.get("annotations") or {}
    offering_id = annotations.get(ANNOTATION_CATALOG_ID) or metadata.get("name")
    if not isinstance(offering_id, str) or not offering_id:
        raise InputError(
            f"the template has no {ANNOTATION_CATALOG_ID} annotation naming a PAO catalog document"
        )
    return offering_id


@scaffolder_router.post(
    "/dry-run",
    summary="Validate values and show every action a request would run, secrets masked; no side effect",
    responses={
        200: {"description": "DryRunResult `{log, output, directoryContents, steps}`"},
        400: {
            "description": "`{errors: [ValidationError]}` (npm jsonschema shape) or a Backstage error body"
        },
    },
)
def dry_run(
    body: DryRunRequest, catalog: CatalogDep, settings: SettingsDep, user: CurrentUserDep
) -> Response:
    offering_id = _offering_id(body.template)
    offering = catalog.get_offering(offering_id)
    if offering is None:
        raise InputError(
            f"template {offering_id!r} is not a PAO catalog document; dry-run previews PAO's own Templates"
        )
    # Backstage's check: every page against the whole values (secrets travel apart, masked in values).
    errors = validate_parameters(body.values, body.template)
    if not errors:
        # PAO's checks beyond draft-07 (date bounds, file sizes, password patterns), on the real secrets.
        joined = join_secrets(offering.form, body.values, body.secrets)
        errors = [_as_npm_error(e.path, e.message, e.code) for e in validate_values(offering.form, joined)]
    if errors:
        return json_response({"errors": errors}, status_code=400)
    preview = preview_plan(
        catalog,
        offering_id,
        body.values,
        secrets=body.secrets,
        system=preview_system(user, platform=settings.platform, request_id="dry-run"),
        endpoints=settings.resolved_endpoints,
    )
    return json_response(dry_run_result(preview))


def _as_npm_error(path: str, message: str, code: str) -> dict[str, Any]:
    parts = path.split(".")
    prop = "instance." + path
    return {
        "path": parts,
        "property": prop,
        "message": message,
        "schema": {},
        "instance": None,
        "name": code,
        "argument": None,
        "stack": f"{prop} {message}",
    }


@scaffolder_router.get(
    "/templating-extensions",
    summary="Filters and globals Templates may use; PAO's Templates only hand values to PAO, so none",
)
def templating_extensions() -> dict[str, Any]:
    return {"filters": {}, "globals": {"functions": {}, "values": {}}}
