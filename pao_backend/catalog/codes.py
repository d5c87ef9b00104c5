"""Every finding code the catalog validator can report, with its one-line meaning.

Codes are stable: tools and people search for them. `docs/platform-teams.md` lists them all (a test checks).
E = error (the document is left out of the catalog), W = warning (the document is served).
"""

from __future__ import annotations

CODES: dict[str, str] = {
    # E1xx reading the file
    "E100": "invalid YAML",
    "E101": "document larger than 1 MiB",
    "E102": "not UTF-8 text, or control characters",
    "E103": "document is empty, a list or a single value instead of a mapping",
    "E104": "duplicate key in a mapping",
    "E105": "too many values after expanding YAML aliases (YAML bomb)",
    "E106": "unsupported YAML (tags, complex keys, bad merge keys)",
    "E107": "document nested too deeply",
    "E109": "file cannot be read",
    # E2xx schema
    "E200": "value does not match the schema",
    "E201": "unknown key",
    "E202": "required key missing",
    "E203": "value of the wrong type",
    "E204": "value not one of the allowed values",
    "E205": "text does not match the required format",
    "E206": "text too short or too long",
    "E207": "number out of range",
    "E208": "list too short, too long or with duplicates",
    "E210": "unknown or missing schemaVersion",
    "E211": "unknown or missing kind, or a kind in the wrong folder",
    # E3xx names and identity
    "E300": "key or id is not camelCase",
    "E301": "item id is not kebab-case {category}-{service}-{variant}",
    "E302": "bundle id is not kebab-case bundle-{name}-{variant}",
    "E303": "file name is not <metadata.id>.yaml",
    "E304": "metadata.category is not the folder name",
    "E305": "item id does not start with its category",
    "E306": "the same id is used by two documents",
    "E307": "description shorter than 50 or longer than 500 characters",
    "E308": "version is not semver MAJOR.MINOR.PATCH",
    "E309": "JIRA project key is not UPPERCASE",
    "E311": "file where no catalog document belongs",
    # E4xx form
    "E400": "duplicate group id",
    "E401": "duplicate field id in a group",
    "E402": "a field is called `name` (reserved for the top-level name)",
    "E403": "default does not match the field type",
    "E404": "default is not one of the enum values",
    "E405": "default breaks the field's validation (pattern, min, max)",
    "E406": "validation pattern is not a valid regular expression",
    "E407": "validation min is greater than max",
    "E408": "select or multiselect without enum",
    "W409": "enum on a field type that ignores it",
    "E410": "min/max of the wrong kind for the field type",
    "E411": "duplicate enum values",
    "W412": "`{{` in the form: nothing in input is templated",
    "W413": "two password fields share a field id (Backstage keys secrets by field id)",
    # E5xx fulfillment
    "E500": "output source not valid for the action type",
    "E501": "automatic mode without automatic actions",
    "W503": "rest-api endpoint base is not a known endpoint name",
    "E504": "rest-api url must be absolute, or a path when base is given",
    "E505": "credentials written inline",
    "W506": "jira-ticket project differs from the owner team's JIRA project",
    # E6xx variables
    "E600": "template syntax error",
    "E601": "unknown variable namespace",
    "E602": "`.current` path the form does not define",
    "E603": "`.metadata` names an item that does not exist",
    "E604": "`.metadata` names a key the item does not have",
    "E605": "`.output` key that no earlier action declares",
    "W606": "output key shadows an earlier output with the same key",
    "E607": "unknown `.system` value",
    "W608": "`.output` key only a bundle's earlier component provides",
    "E609": "unknown `.system.secrets` name",
    # E7xx teams, bundles, ownership
    "E700": "owner team does not exist in teams.yaml",
    "E701": "bundle component names a catalog item that does not exist or is invalid",
    "E702": "duplicate component id",
    "E703": "dependsOn names an unknown component (or itself)",
    "E704": "components depend on each other in a cycle",
    "E705": "a component's item uses a `.current` path the bundle form does not provide",
    "E706": "CODEOWNERS does not give the document to its owner team",
    "E707": "teams.yaml missing or invalid",
    "E708": "duplicate team id",
    "W709": "the document has errors; the service keeps serving its last good version",
}
