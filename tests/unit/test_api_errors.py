from fastapi.testclient import TestClient

from pao_backend.app import create_app
from pao_backend.settings import Settings


def test_unknown_path_answers_in_backstage_error_shape(tmp_path):
    client = TestClient(create_app(Settings(data_dir=tmp_path)))
    response = client.get("/no/such/path")
    assert response.status_code == 404
    body = response.json()
    assert body["error"]["name"] == "NotFoundError"
    assert body["request"] == {"method": "GET", "url": "/no/such/path"}
    assert body["response"] == {"statusCode": 404}


def test_production_settings_refuse_a_missing_secret_key():
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="PAO_SECRET_KEY"):
        Settings(environment="production", service_tokens={"backstage": "x" * 40})
