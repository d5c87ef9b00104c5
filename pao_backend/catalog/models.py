"""Typed models of `catalog/v1` documents (see docs/platform-teams.md and shared spec).

Models are built only from documents that passed schema validation, so they describe valid shapes;
the loader and the rules report what is wrong with the rest, with positions.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FieldType = Literal[
    "string", "textarea", "password", "email", "number", "boolean", "select", "multiselect", "date", "file"
]
Mode = Literal["manual", "automatic"]
SCHEMA_VERSIONS = ("catalog/v1",)
CURRENT_SCHEMA_VERSION = "catalog/v1"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Validation(_Model):
    pattern: str | None = None
    # Numbers for number/length/size/count; ISO dates (YYYY-MM-DD) for `date` fields.
    min: float | str | None = None
    max: float | str | None = None


class FormField(_Model):
    id: str
    name: str
    type: FieldType
    required: bool = False
    default: Any = None
    description: str | None = None
    enum: list[str] | None = None
    validation: Validation | None = None

    @property
    def is_secret(self) -> bool:
        return self.type == "password"


class FieldGroup(_Model):
    id: str
    name: str
    description: str | None = None
    fields: list[FormField] = Field(default_factory=list)


class Form(_Model):
    """The request form: a required top-level `name` plus groups of fields."""

    name: str
    type: Literal["string"] = "string"
    required: bool = True
    validation: Validation | None = None
    description: str | None = None
    groups: list[FieldGroup] = Field(default_factory=list)

    def field(self, group_id: str, field_id: str) -> FormField | None:
        for group in self.groups:
            if group.id == group_id:
                return next((f for f in group.fields if f.id == field_id), None)
        return None

    def secret_paths(self) -> list[tuple[str, str]]:
        """(groupId, fieldId) of every password field."""
        return [(g.id, f.id) for g in self.groups for f in g.fields if f.is_secret]


class Input(_Model):
    form: Form


class Owner(_Model):
    team: str
    contact: str


class Metadata(BaseModel):
    """Document metadata; any key beyond the known ones is custom static metadata."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: str
    name: str
    description: str
    version: str
    owner: Owner
    category: str | None = None
    tags: list[str] = Field(default_factory=list)

    @property
    def custom(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class Action(_Model):
    type: str
    name: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, str] = Field(default_factory=dict)


class ActionList(_Model):
    actions: list[Action] = Field(default_factory=list)


class Strategy(_Model):
    mode: Mode


class ItemFulfillment(_Model):
    strategy: Strategy
    manual: ActionList
    automatic: ActionList | None = None

    def actions_for(self, mode: Mode) -> list[Action]:
        if mode == "automatic" and self.automatic is not None:
            return list(self.automatic.actions)
        return list(self.manual.actions)


class CatalogItem(_Model):
    schema_version: str = Field(alias="schemaVersion")
    kind: Literal["CatalogItem"]
    metadata: Metadata
    input: Input
    fulfillment: ItemFulfillment

    @property
    def id(self) -> str:
        return self.metadata.id

    @property
    def mode(self) -> Mode:
        return self.fulfillment.strategy.mode

    @property
    def form(self) -> Form:
        return self.input.form


class BundleComponent(_Model):
    id: str
    catalog_item: str = Field(alias="catalogItem")
    depends_on: list[str] = Field(default_factory=list, alias="dependsOn")


class JiraLinking(_Model):
    link_type: str = Field(default="blocks", alias="linkType")
    parent_ticket: bool = Field(default=False, alias="parentTicket")


class Orchestration(_Model):
    mode: Literal["sequential"] = "sequential"
    jira_linking: JiraLinking = Field(default_factory=JiraLinking, alias="jiraLinking")


class BundleFulfillment(_Model):
    orchestration: Orchestration = Field(default_factory=Orchestration)


class CatalogBundle(_Model):
    schema_version: str = Field(alias="schemaVersion")
    kind: Literal["CatalogBundle"]
    metadata: Metadata
    components: list[BundleComponent]
    input: Input
    fulfillment: BundleFulfillment = Field(default_factory=BundleFulfillment)

    @property
    def id(self) -> str:
        return self.metadata.id

    @property
    def form(self) -> Form:
        return self.input.form


Offering = CatalogItem | CatalogBundle


class Escalation(_Model):
    contact: str
    jira_project: str | None = Field(default=None, alias="jiraProject")
    chat: str | None = None
    hours: str | None = None


class Team(_Model):
    id: str
    name: str
    contact: str
    jira_project: str | None = Field(default=None, alias="jiraProject")
    codeowners: str = Field(description="CODEOWNERS handle, e.g. @acme/platform-databases")
    escalation: Escalation | None = None
    description: str | None = None
