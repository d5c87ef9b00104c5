"""Catalog documents as Backstage entities: a v1beta3 Template per offering and a Group per team.

Pure: a `Catalog` in, plain JSON-ready dicts out. `translate_catalog` also computes what a Backstage
catalog would add while stitching (relations `ownedBy`/`ownerOf`, `uid`, `etag`, `generation`), derived
from content only, so every PAO process answers with the same values across restarts.

A Template hands the request to PAO: step `pao:request:create` (input `catalogId`, `version`, `values`,
`secrets`) then `pao:request:wait` (input `requestId`; outputs `hasTickets`, `ticketsUrl`, `summary`);
both actions live in the PAO scaffolder module (backstage-plugin/). Submitted `values` have PAO's
request shape `{name, <groupId>: {...}}`. A password field is a `ui:field: Secret`: Backstage sends it
in the task's `secrets` keyed by the bare field id (the form widget's name), and the step forwards it
to PAO under `"<groupId>.<fieldId>"`.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable
from typing import Any

from pao_backend.catalog.form_schema import parameter_pages
from pao_backend.catalog.models import CatalogBundle, CatalogItem, Offering, Team
from pao_backend.catalog.store import Catalog
from pao_backend.catalog.values import secret_key

__all__ = [
    "ANNOTATION_CATALOG_ID",
    "ANNOTATION_FULFILLMENT_MODE",
    "ANNOTATION_VERSION",
    "GROUP_API_VERSION",
    "NAMESPACE",
    "TEMPLATE_API_VERSION",
    "backstage_tag",
    "entity_ref",
    "fulfillment_mode",
    "group_entity",
    "stitch",
    "template_entity",
    "translate_catalog",
]

TEMPLATE_API_VERSION = "scaffolder.backstage.io/v1beta3"
GROUP_API_VERSION = "backstage.io/v1alpha1"
NAMESPACE = "default"
ANNOTATION_CATALOG_ID = "pao.dev/catalog-id"
ANNOTATION_VERSION = "pao.dev/version"
ANNOTATION_FULFILLMENT_MODE = "pao.dev/fulfillment-mode"
MANAGED_BY_LOCATION = "backstage.io/managed-by-location"
MANAGED_BY_ORIGIN_LOCATION = "backstage.io/managed-by-origin-location"
SOURCE_LOCATION = "backstage.io/source-location"
# uid = uuid5(this, entity ref): stable across restarts and processes.
_UID_NAMESPACE = uuid.UUID("6f7a0b3e-2d55-5b8e-9c1f-70616f2e6465")
_TAG_INVALID = re.compile(r"[^a-z0-9+#]+")


def entity_ref(kind: str, name: str, namespace: str = NAMESPACE) -> str:
    """Backstage's `stringifyEntityRef`, lower-cased: `template:default/my-tpl`."""
    return f"{kind}:{namespace}/{name}".lower()


def backstage_tag(text: str) -> str | None:
    """A valid Backstage tag (`^[a-z0-9+#]+(-[a-z0-9+#]+)*$`, ≤63 chars) from any text, or None."""
    tag = _TAG_INVALID.sub("-", text.lower()).strip("-")
    tag = re.sub(r"-{2,}", "-", tag)[:63].rstrip("-")
    return tag or None


def _tags(values: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for value in values:
        tag = backstage_tag(value)
        if tag and tag not in seen:
            seen.append(tag)
    return seen


def fulfillment_mode(offering: Offering, catalog: Catalog) -> str:
    """`manual` or `automatic` for an item; for a bundle the common mode of its components, else `mixed`."""
    if isinstance(offering, CatalogItem):
        return offering.mode
    modes = {
        catalog.items[c.catalog_item].mode for c in offering.components if c.catalog_item in catalog.items
    }
    return modes.pop() if len(modes) == 1 else "mixed"


def _catalog_url(base_url: str, offering_id: str) -> str:
    return f"{base_url.rstrip('/')}/api/pao/v1/catalog/{offering_id}"


def _links(offering: Offering, catalog: Catalog, base_url: str) -> list[dict[str, str]]:
    meta = offering.metadata
    team = catalog.get_team(meta.owner.team)
    links = [
        {
            "url": f"mailto:{meta.owner.contact}",
            "title": f"Contact {team.name if team else meta.owner.team}",
            "icon": "email",
            "type": "contact",
        }
    ]
    docs = meta.custom.get("docs")
    if isinstance(docs, str) and re.match(r"^https?://[^/\s]+", docs):
        links.append({"url": docs, "title": "Documentation", "icon": "docs", "type": "docs"})
    links.append(
        {
            "url": f"{base_url.rstrip('/')}/offerings/{offering.id}",
            "title": "Open in PAO",
            "icon": "dashboard",
            "type": "pao",
        }
    )
    return links


def _steps(offering: Offering) -> list[dict[str, Any]]:
    secrets = {
        secret_key(group_id, field_id): f"${{{{ secrets.{field_id} }}}}"
        for group_id, field_id in offering.form.secret_paths()
    }
    create_input: dict[str, Any] = {
        "catalogId": offering.id,
        "version": offering.metadata.version,
        "values": "${{ parameters }}",
    }
    if secrets:
        create_input["secrets"] = secrets
    return [
        {
            "id": "request",
            "name": f"Request {offering.metadata.name} from PAO",
            "action": "pao:request:create",
            "input": create_input,
        },
        {
            "id": "wait",
            "name": "Wait until PAO has fulfilled the request",
            "action": "pao:request:wait",
            "input": {"requestId": "${{ steps.request.output.requestId }}"},
        },
    ]


_OUTPUT: dict[str, Any] = {
    "links": [
        {"title": "Request in PAO", "icon": "dashboard", "url": "${{ steps.request.output.url }}"},
        {
            # A condition that renders empty is dropped, so test the boolean the wait step always sets.
            "if": "${{ steps.wait.output.hasTickets }}",
            "title": "Tickets",
            "icon": "catalog",
            "url": "${{ steps.wait.output.ticketsUrl }}",
        },
    ],
    "text": [
        {
            "if": "${{ steps.wait.output.summary }}",
            "title": "Result",
            "content": "${{ steps.wait.output.summary }}",
        }
    ],
}


def template_entity(offering: Offering, catalog: Catalog, *, base_url: str) -> dict[str, Any]:
    """The Template of one catalog document (without the computed uid, etag and relations)."""
    meta = offering.metadata
    mode = fulfillment_mode(offering, catalog)
    category = meta.category if isinstance(offering, CatalogItem) else "bundle"
    location = f"url:{_catalog_url(base_url, offering.id)}"
    annotations = {
        ANNOTATION_CATALOG_ID: offering.id,
        ANNOTATION_VERSION: meta.version,
        ANNOTATION_FULFILLMENT_MODE: mode,
        MANAGED_BY_LOCATION: location,
        MANAGED_BY_ORIGIN_LOCATION: location,
        SOURCE_LOCATION: f"url:{_catalog_url(base_url, offering.id)}/source",
    }
    if offering.id in catalog.sources:
        annotations["pao.dev/source-path"] = catalog.sources[offering.id]
    if isinstance(offering, CatalogBundle):
        annotations["pao.dev/components"] = ",".join(f"{c.id}={c.catalog_item}" for c in offering.components)
    metadata: dict[str, Any] = {
        "name": offering.id,
        "namespace": NAMESPACE,
        "title": meta.name,
        "description": meta.description.strip(),
        "tags": _tags([category or "", mode, *meta.tags]),
        "annotations": annotations,
        "links": _links(offering, catalog, base_url),
    }
    return {
        "apiVersion": TEMPLATE_API_VERSION,
        "kind": "Template",
        "metadata": metadata,
        "spec": {
            "owner": entity_ref("group", meta.owner.team),
            "type": category or "service",
            "parameters": parameter_pages(offering.form),
            "steps": _steps(offering),
            "output": json.loads(json.dumps(_OUTPUT)),
        },
    }


def group_entity(team: Team, *, base_url: str) -> dict[str, Any]:
    """The Group of one platform team from teams.yaml."""
    location = f"url:{base_url.rstrip('/')}/api/pao/v1/catalog/teams"
    metadata: dict[str, Any] = {
        "name": team.id,
        "namespace": NAMESPACE,
        "title": team.name,
        "annotations": {
            "pao.dev/team-id": team.id,
            MANAGED_BY_LOCATION: location,
            MANAGED_BY_ORIGIN_LOCATION: location,
        },
        "links": [{"url": f"mailto:{team.contact}", "title": "Contact", "icon": "email", "type": "contact"}],
    }
    if team.description:
        metadata["description"] = team.description
    if team.jira_project:
        metadata["annotations"]["pao.dev/jira-project"] = team.jira_project
    if team.codeowners:
        metadata["annotations"]["pao.dev/codeowners"] = team.codeowners
    return {
        "apiVersion": GROUP_API_VERSION,
        "kind": "Group",
        "metadata": metadata,
        "spec": {
            "type": "team",
            "profile": {"displayName": team.name, "email": team.contact},
            "children": [],
        },
    }


def _ref_of(entity: dict[str, Any]) -> str:
    metadata = entity["metadata"]
    return entity_ref(str(entity["kind"]), str(metadata["name"]), str(metadata.get("namespace", NAMESPACE)))


def stitch(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add what a Backstage catalog computes: relations ownedBy/ownerOf, uid, etag and generation.

    The etag hashes the entity's content (relations included), so it changes exactly when the entity does.
    """
    owner_of: dict[str, list[str]] = {}
    for entity in entities:
        owner = entity.get("spec", {}).get("owner")
        if isinstance(owner, str):
            owner_of.setdefault(owner.lower(), []).append(_ref_of(entity))
    stitched = []
    for entity in entities:
        ref = _ref_of(entity)
        relations = []
        owner = entity.get("spec", {}).get("owner")
        if isinstance(owner, str):
            relations.append({"type": "ownedBy", "targetRef": owner.lower()})
        relations.extend({"type": "ownerOf", "targetRef": target} for target in sorted(owner_of.get(ref, [])))
        done = {**entity, "relations": relations}
        content = json.dumps(done, sort_keys=True, separators=(",", ":")).encode()
        done["metadata"] = {
            **entity["metadata"],
            "uid": str(uuid.uuid5(_UID_NAMESPACE, ref)),
            "etag": hashlib.sha256(content).hexdigest()[:32],
            "generation": 1,
        }
        stitched.append(done)
    return stitched


def translate_catalog(catalog: Catalog, *, base_url: str) -> list[dict[str, Any]]:
    """Every Group (one per team) and Template (one per item and bundle), stitched, sorted by ref."""
    entities = [group_entity(team, base_url=base_url) for team in catalog.teams.values()]
    entities.extend(template_entity(offering, catalog, base_url=base_url) for offering in catalog.offerings())
    entities.sort(key=_ref_of)
    return stitch(entities)
