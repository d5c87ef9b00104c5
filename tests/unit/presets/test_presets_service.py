"""Presets service against a real SQLite database migrated to head."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pao_backend.catalog.models import CatalogItem, Team
from pao_backend.catalog.store import Catalog
from pao_backend.errors import ConflictError, InputError, NotAllowedError, NotFoundError
from pao_backend.persistence.db import Database, normalize_url
from pao_backend.persistence.migrate import migrate
from pao_backend.persistence.tables import RequestRow
from pao_backend.presets import (
    PresetCreate,
    PresetUpdate,
    create_preset,
    delete_preset,
    get_preset,
    list_presets,
    update_preset,
)
from pao_backend.presets.tables import PresetRow
from tests.support.databases import postgres_database


def _item(
    version: str = "1.0.0", *, extra_field: dict[str, Any] | None = None, sizes: list[str] | None = None
):
    fields: list[dict[str, Any]] = [
        {
            "id": "size",
            "name": "Size",
            "type": "select",
            "enum": sizes or ["small", "large"],
            "default": "small",
        },
        {"id": "storage", "name": "Storage", "type": "number", "validation": {"min": 20, "max": 200}},
        {"id": "adminPassword", "name": "Admin password", "type": "password", "required": True},
    ]
    if extra_field:
        fields.append(extra_field)
    return CatalogItem.model_validate(
        {
            "schemaVersion": "catalog/v1",
            "kind": "CatalogItem",
            "metadata": {
                "id": "database-test-standard",
                "name": "Test DB",
                "description": "A database for tests.",
                "version": version,
                "category": "databases",
                "owner": {"team": "platform-databases", "contact": "dba@example.com"},
            },
            "input": {
                "form": {"name": "Name", "groups": [{"id": "basic", "name": "Basic", "fields": fields}]}
            },
            "fulfillment": {
                "strategy": {"mode": "manual"},
                "manual": {"actions": [{"type": "jira-ticket", "config": {}}]},
            },
        }
    )


def _catalog(item: CatalogItem) -> Catalog:
    team = Team(id="platform-databases", name="DB", contact="dba@example.com", codeowners="@acme/dba")
    return Catalog(items={item.id: item}, teams={team.id: team})


@dataclass(frozen=True)
class Caller:
    ref: str = "user:default/jane"
    teams: list[str] = field(default_factory=lambda: ["team-a"])


JANE = Caller()
BOB = Caller(ref="user:default/bob", teams=["team-a"])
EVE = Caller(ref="user:default/eve", teams=["team-b"])
VALUES = {"name": "orders-db", "basic": {"size": "large", "storage": 50, "adminPassword": "hunter2!"}}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """The presets table on both dialects, migrated by the real migration chain."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'pao.db'}")
        migrate(database)
        yield database
        database.dispose()
        return
    server = request.getfixturevalue("postgres_url")
    with postgres_database(server) as url:
        database = Database(normalize_url(url))
        migrate(database)
        yield database
        database.dispose()


def _create(db: Database, catalog: Catalog, caller: Caller = JANE, **kw: Any):
    data = {"name": "Orders", "offeringId": "database-test-standard", "values": VALUES, **kw}
    return create_preset(db=db, catalog=catalog, caller=caller, data=PresetCreate.model_validate(data))


def test_create_strips_password_fields_before_anything_is_stored(db: Database) -> None:
    preset = _create(db, _catalog(_item()))
    assert preset.values == {"name": "orders-db", "basic": {"size": "large", "storage": 50}}
    with db.reading() as session:
        row = session.get(PresetRow, preset.id)
        assert row is not None
        assert "hunter2" not in str(row.values) and "hunter2" not in str(row.fields)


def test_create_rejects_values_the_request_form_rejects_with_field_paths(db: Database) -> None:
    bad = {"name": "X", "basic": {"size": "huge", "storage": 5}}
    with pytest.raises(InputError) as caught:
        _create(db, _catalog(_item()), values=bad)
    paths = {e["path"] for e in caught.value.details["errors"]}
    assert paths == {"name", "basic.size", "basic.storage"}
    assert caught.value.details["status"] == 422


def test_me_presets_are_private_and_team_presets_are_shared_with_the_team(db: Database) -> None:
    catalog = _catalog(_item())
    mine = _create(db, catalog, name="Mine")
    shared = _create(db, catalog, name="Shared", visibility="team")
    assert shared.team == "team-a"
    assert [p.name for p in list_presets(db=db, catalog=catalog, caller=BOB).items] == ["Shared"]
    assert list_presets(db=db, catalog=catalog, caller=EVE).items == []
    assert {p.id for p in list_presets(db=db, catalog=catalog, caller=JANE).items} == {mine.id, shared.id}
    with pytest.raises(NotFoundError):
        get_preset(db=db, catalog=catalog, caller=BOB, preset_id=mine.id)


def test_only_the_owner_updates_or_deletes(db: Database) -> None:
    catalog = _catalog(_item())
    shared = _create(db, catalog, visibility="team")
    with pytest.raises(NotAllowedError):
        update_preset(
            db=db, catalog=catalog, caller=BOB, preset_id=shared.id, data=PresetUpdate(name="Hijack")
        )
    with pytest.raises(NotAllowedError):
        delete_preset(db=db, caller=BOB, preset_id=shared.id)
    renamed = update_preset(
        db=db,
        catalog=catalog,
        caller=JANE,
        preset_id=shared.id,
        data=PresetUpdate.model_validate({"name": "Renamed", "values": {**VALUES, "name": "other-db"}}),
    )
    assert renamed.name == "Renamed" and renamed.values["name"] == "other-db"
    assert "adminPassword" not in renamed.values["basic"]
    delete_preset(db=db, caller=JANE, preset_id=shared.id)
    assert list_presets(db=db, catalog=catalog, caller=JANE).total_items == 0


def test_team_preset_for_a_team_you_are_not_in_is_refused(db: Database) -> None:
    with pytest.raises(NotAllowedError):
        _create(db, _catalog(_item()), visibility="team", team="team-b")


def test_preset_from_an_older_version_points_out_the_changed_fields(db: Database) -> None:
    preset = _create(db, _catalog(_item("1.0.0")))
    newer = _item(
        "2.0.0",
        sizes=["small", "medium"],
        extra_field={
            "id": "region",
            "name": "Region",
            "type": "select",
            "enum": ["eu", "us"],
            "required": True,
        },
    )
    read = get_preset(db=db, catalog=_catalog(newer), caller=JANE, preset_id=preset.id)
    assert read.offering_version == "1.0.0" and read.current_version == "2.0.0"
    changes = {c.path: c for c in read.changes}
    assert changes["basic.region"].change == "added"
    assert "required" in changes["basic.region"].message
    assert changes["basic.size"].change == "invalid"
    assert "no longer offers large" in changes["basic.size"].message
    assert "basic.adminPassword" not in changes  # never saved, so never "missing"


def test_preset_from_a_completed_request_takes_its_values_and_version(db: Database) -> None:
    catalog = _catalog(_item("1.0.0"))
    now = datetime.now(UTC)
    with db.transaction() as session:
        for request_id, state in (("r-done", "completed"), ("r-run", "running")):
            session.add(
                RequestRow(
                    id=request_id,
                    catalog_id="database-test-standard",
                    item_version="0.9.0",
                    kind="item",
                    values={"name": "orders-db", "basic": {"size": "small", "storage": 20}},
                    requester=JANE.ref,
                    state=state,
                    correlation_id="c",
                    created_at=now,
                    updated_at=now,
                )
            )
    data = PresetCreate.model_validate({"name": "From request", "fromRequest": "r-done"})
    preset = create_preset(db=db, catalog=catalog, caller=JANE, data=data)
    assert preset.offering_version == "0.9.0" and preset.source_request == "r-done"
    assert preset.values["basic"] == {"size": "small", "storage": 20}
    with pytest.raises(ConflictError):
        create_preset(db=db, catalog=catalog, caller=JANE, data=PresetCreate(name="x", from_request="r-run"))
    with pytest.raises(NotFoundError):
        create_preset(db=db, catalog=catalog, caller=BOB, data=PresetCreate(name="x", from_request="r-done"))


def test_create_needs_either_a_request_or_offering_and_values() -> None:
    with pytest.raises(ValueError):
        PresetCreate.model_validate({"name": "x", "offeringId": "a"})
    with pytest.raises(ValueError):
        PresetCreate.model_validate({"name": "x", "fromRequest": "r", "offeringId": "a", "values": {}})
