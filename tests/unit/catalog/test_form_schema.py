from pao_backend.catalog.form_schema import form_schema, parameter_pages, ui_schema
from pao_backend.catalog.models import FieldGroup, Form, FormField, Validation


def _form() -> Form:
    return Form(
        name="Database Name",
        description="Used as the resource name.",
        groups=[
            FieldGroup(
                id="basic",
                name="Basic",
                fields=[
                    FormField(id="instanceClass", name="Class", type="select", enum=["s", "m"], default="s"),
                    FormField(
                        id="storageSize",
                        name="Storage",
                        type="number",
                        required=True,
                        validation=Validation(min=20, max=2000),
                    ),
                    FormField(id="notes", name="Notes", type="textarea", validation=Validation(max=500)),
                    FormField(
                        id="adminPassword",
                        name="Pw",
                        type="password",
                        validation=Validation(min=8, pattern="x"),
                    ),
                    FormField(id="owner", name="Owner", type="email"),
                    FormField(id="regions", name="Regions", type="multiselect", enum=["eu", "us"]),
                    FormField(id="start", name="Start", type="date", validation=Validation(min="2025-01-01")),
                    FormField(id="config", name="Config", type="file", validation=Validation(max=1024)),
                    FormField(id="ha", name="HA", type="boolean", default=False),
                ],
            ),
            FieldGroup(id="extra", name="Extra", fields=[FormField(id="label", name="Label", type="string")]),
        ],
    )


def test_each_field_type_maps_to_its_json_schema_keywords():
    props = form_schema(_form())["properties"]["basic"]["properties"]
    assert props["instanceClass"] == {"title": "Class", "type": "string", "enum": ["s", "m"], "default": "s"}
    assert props["storageSize"] == {"title": "Storage", "type": "number", "minimum": 20, "maximum": 2000}
    assert props["notes"]["maxLength"] == 500
    assert props["adminPassword"] == {"title": "Pw", "type": "string", "minLength": 8, "x-pao-pattern": "x"}
    assert props["owner"]["format"] == "email"
    assert props["regions"] == {
        "title": "Regions",
        "type": "array",
        "items": {"type": "string", "enum": ["eu", "us"]},
        "uniqueItems": True,
    }
    assert props["start"] == {
        "title": "Start",
        "type": "string",
        "format": "date",
        "formatMinimum": "2025-01-01",
    }
    assert props["config"] == {
        "title": "Config",
        "type": "string",
        "format": "data-url",
        "x-pao-maxBytes": 1024,
    }
    assert props["ha"] == {"title": "HA", "type": "boolean", "default": False}


def test_whole_schema_requires_name_and_groups_with_required_fields_and_rejects_unknown_keys():
    schema = form_schema(_form())
    assert schema["required"] == ["name", "basic"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["basic"]["required"] == ["storageSize"]
    assert schema["properties"]["basic"]["additionalProperties"] is False
    assert schema["properties"]["name"]["pattern"] == "^[a-z][a-z0-9-]{2,28}[a-z0-9]$"


def test_ui_schema_names_the_widget_of_each_field_type():
    ui = ui_schema(_form())
    assert ui["ui:order"] == ["name", "basic", "extra"]
    basic = ui["basic"]
    assert basic["instanceClass"]["ui:widget"] == "select"
    assert basic["notes"]["ui:widget"] == "textarea"
    assert basic["adminPassword"]["ui:field"] == "Secret"
    assert basic["regions"]["ui:widget"] == "checkboxes"
    assert basic["storageSize"]["ui:help"] == "20–2000"
    assert basic["start"]["ui:help"] == "Not before 2025-01-01"


def test_parameter_pages_put_name_first_then_one_page_per_group_as_nested_objects():
    pages = parameter_pages(_form())
    assert [p["title"] for p in pages] == ["Name", "Basic", "Extra"]
    assert pages[0]["required"] == ["name"]
    assert list(pages[1]["properties"]) == ["basic"]
    assert pages[1]["required"] == ["basic"]
    assert "required" not in pages[2]
    assert pages[1]["properties"]["basic"]["properties"]["adminPassword"]["ui:field"] == "Secret"
    assert all(p["propertyNames"] == {"enum": ["name", "basic", "extra"]} for p in pages)
