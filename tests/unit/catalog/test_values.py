import base64

import pytest

from pao_backend.catalog.models import FieldGroup, Form, FormField, Validation
from pao_backend.catalog.values import (
    apply_defaults,
    join_secrets,
    normalize_values,
    require_valid_values,
    split_secrets,
    validate_values,
)
from pao_backend.errors import InputError


def _form() -> Form:
    return Form(
        name="Database Name",
        groups=[
            FieldGroup(
                id="basic",
                name="Basic",
                fields=[
                    FormField(
                        id="storageSize", name="S", type="number", validation=Validation(min=20, max=2000)
                    ),
                    FormField(id="adminPassword", name="P", type="password", required=True),
                    FormField(id="start", name="Start", type="date", validation=Validation(min="2025-01-01")),
                    FormField(id="config", name="Config", type="file", validation=Validation(max=4)),
                    FormField(
                        id="tier", name="Tier", type="select", enum=["gold", "silver"], default="silver"
                    ),
                ],
            )
        ],
    )


def _paths(errors):
    return {(e.path, e.message) for e in errors}


def test_valid_values_have_no_errors():
    values = {"name": "orders-db", "basic": {"storageSize": 50, "adminPassword": "hunter22"}}
    assert validate_values(_form(), values) == []


def test_errors_name_the_dotted_field_path_and_the_bound():
    errors = validate_values(
        _form(), {"name": "Orders", "basic": {"storageSize": 5000, "adminPassword": "x"}}
    )
    assert ("basic.storageSize", "must be ≤ 2000") in _paths(errors)
    assert any(e.path == "name" and e.code == "pattern" for e in errors)


def test_a_missing_group_reports_each_of_its_required_fields():
    assert _paths(validate_values(_form(), {"name": "orders-db"})) == {("basic.adminPassword", "is required")}


def test_unknown_keys_are_rejected_at_every_level():
    errors = validate_values(
        _form(), {"name": "orders-db", "bsic": {}, "basic": {"adminPassword": "p", "x": 1}}
    )
    assert {e.path for e in errors} == {"basic.x", "bsic"}


def test_date_bounds_and_file_size_are_checked_beyond_the_schema():
    big = "data:text/plain;name=a.txt;base64," + base64.b64encode(b"12345").decode()
    values = {"name": "orders-db", "basic": {"adminPassword": "p", "start": "2024-12-31", "config": big}}
    codes = {e.path: e.code for e in validate_values(_form(), values)}
    assert codes == {"basic.start": "formatMinimum", "basic.config": "maxSize"}


def test_file_objects_become_data_urls():
    content = base64.b64encode(b"hi").decode()
    values = {"basic": {"config": {"filename": "a b.txt", "contentType": "text/plain", "content": content}}}
    assert (
        normalize_values(_form(), values)["basic"]["config"]
        == f"data:text/plain;name=a%20b.txt;base64,{content}"
    )


def test_require_valid_values_raises_input_error_with_422_and_field_errors():
    with pytest.raises(InputError) as caught:
        require_valid_values(_form(), {"name": "orders-db", "basic": {"storageSize": 1}}, offering_id="db")
    assert caught.value.details["status"] == 422
    assert {e["path"] for e in caught.value.details["errors"]} == {"basic.storageSize", "basic.adminPassword"}
    assert "'db'" in caught.value.message


def test_split_secrets_moves_passwords_out_under_group_dot_field_keys():
    values = {"name": "orders-db", "basic": {"storageSize": 50, "adminPassword": "hunter22"}}
    clean, secrets = split_secrets(_form(), values)
    assert clean == {"name": "orders-db", "basic": {"storageSize": 50}}
    assert secrets == {"basic.adminPassword": "hunter22"}
    assert values["basic"]["adminPassword"] == "hunter22"


def test_join_secrets_replaces_backstage_masks_and_accepts_bare_field_ids():
    masked = {"name": "orders-db", "basic": {"adminPassword": "********"}}
    assert (
        join_secrets(_form(), masked, {"adminPassword": "hunter22"})["basic"]["adminPassword"] == "hunter22"
    )
    assert join_secrets(_form(), masked, {"basic.adminPassword": "s3"})["basic"]["adminPassword"] == "s3"
    # A mask with no secret is not a password.
    assert _paths(validate_values(_form(), masked)) == {("basic.adminPassword", "is required")}


def test_secret_values_never_appear_in_error_messages():
    form = Form(
        name="N",
        groups=[
            FieldGroup(
                id="g",
                name="G",
                fields=[FormField(id="pw", name="P", type="password", validation=Validation(pattern="^a"))],
            )
        ],
    )
    errors = validate_values(form, {"name": "orders-db"}, secrets={"g.pw": "zz-top-secret"})
    assert errors and all("zz-top-secret" not in e.message for e in errors)


def test_apply_defaults_fills_absent_fields_only():
    assert apply_defaults(_form(), {"basic": {"tier": "gold"}})["basic"]["tier"] == "gold"
    assert apply_defaults(_form(), {})["basic"]["tier"] == "silver"


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_numbers_are_refused_by_name(number):
    # (Q) Python's JSON parser reads NaN/Infinity; NaN passed min/max and failed later as a render error.
    values = {"name": "orders-db", "basic": {"storageSize": number, "adminPassword": "hunter22"}}
    assert ("basic.storageSize", "must be a finite number") in _paths(validate_values(_form(), values))
