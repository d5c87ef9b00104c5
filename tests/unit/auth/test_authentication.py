from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from pydantic import SecretStr

from pao_backend.api.deps import AdminUserDep, CurrentUserDep
from pao_backend.api.errors import install_error_handlers
from pao_backend.auth import Authenticator, Identity, Role
from pao_backend.errors import AuthenticationError, NotAllowedError, UnavailableError
from pao_backend.settings import Settings

TEAM_IDS = ["platform-databases", "developer-experience"]


class Keys:
    def __init__(self) -> None:
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other = ec.generate_private_key(ec.SECP256R1())

    def jwks(self) -> dict[str, Any]:
        ec_jwk = json.loads(ECAlgorithm.to_jwk(self.ec.public_key()))
        rsa_jwk = json.loads(RSAAlgorithm.to_jwk(self.rsa.public_key()))
        return {
            "keys": [
                {**ec_jwk, "kid": "ec-1", "alg": "ES256", "use": "sig"},
                {**rsa_jwk, "kid": "rsa-1", "alg": "RS256", "use": "sig"},
            ]
        }


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


@pytest.fixture(scope="module")
def jwks_url(keys: Keys) -> Iterator[str]:
    body = json.dumps(keys.jwks()).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/api/auth/.well-known/jwks.json":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/auth/.well-known/jwks.json"
    server.shutdown()
    server.server_close()


def token(
    keys: Keys,
    *,
    sub: str = "user:default/jdoe",
    ent: list[str] | None = None,
    kid: str = "ec-1",
    key: Any = None,
    alg: str = "ES256",
    exp_in: int = 3600,
    **claims: Any,
) -> str:
    now = int(time.time())
    payload = {
        "iss": "http://backstage/api/auth",
        "sub": sub,
        "ent": ent if ent is not None else [sub, "group:default/platform-databases", "group:default/guests"],
        "aud": "backstage",
        "iat": now,
        "exp": now + exp_in,
        **claims,
    }
    return jwt.encode(
        payload, key or keys.ec, algorithm=alg, headers={"kid": kid, "typ": "vnd.backstage.user"}
    )


def settings(**overrides: Any) -> Settings:
    return Settings(environment="test", _env_file=None, **overrides)


@pytest.fixture
def jwt_auth(jwks_url: str) -> Authenticator:
    return Authenticator(settings(jwks_url=jwks_url, jwt_audience="backstage", admins=["user:default/boss"]))


# ---- Backstage user tokens -----------------------------------------------------------------------


def test_a_backstage_user_token_identifies_the_user_and_their_teams(
    jwt_auth: Authenticator, keys: Keys
) -> None:
    user = jwt_auth.authenticate(authorization=f"Bearer {token(keys)}", team_ids=TEAM_IDS)
    assert user.ref == user.id == "user:default/jdoe"
    assert user.name == "jdoe"
    assert user.teams == ("platform-databases", "guests")
    assert user.platform_teams == ("platform-databases",)
    assert user.roles == {Role.DEVELOPER, Role.TEAM_MEMBER}
    assert user.via == "jwt"
    assert user.is_member("platform-databases") and not user.is_member("developer-experience")


def test_rsa_signed_tokens_and_name_email_claims_are_accepted(jwt_auth: Authenticator, keys: Keys) -> None:
    raw = token(keys, kid="rsa-1", key=keys.rsa, alg="RS256", ent=[], email="jd@example.com", name="Jane Doe")
    user = jwt_auth.authenticate(authorization=f"Bearer {raw}")
    assert (user.name, user.email, user.teams) == ("Jane Doe", "jd@example.com", ())
    assert user.roles == {Role.DEVELOPER}


def test_admins_come_from_settings(jwt_auth: Authenticator, keys: Keys) -> None:
    boss = jwt_auth.authenticate(authorization=f"Bearer {token(keys, sub='user:default/boss', ent=[])}")
    assert boss.is_admin and boss.is_member("any-team")
    boss.require_admin()
    jdoe = jwt_auth.authenticate(authorization=f"Bearer {token(keys)}")
    with pytest.raises(NotAllowedError, match="PAO_ADMINS"):
        jdoe.require_admin()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda k: token(k, key=k.other), "Signature verification failed"),
        (lambda k: token(k, exp_in=-3600), "expired"),
        (lambda k: token(k, aud="someone-else"), "Audience"),
        (lambda k: token(k, kid="unknown"), "valid Backstage token"),
        (lambda k: token(k, sub="group:default/admins"), "must name a user"),
        (
            lambda k: jwt.encode(
                {"sub": "user:default/x", "exp": 9999999999}, "shared-secret-that-is-long-enough-for-hs256"
            ),
            "valid Backstage token",
        ),
        (lambda k: "not-a-jwt", "valid Backstage token"),
    ],
)
def test_invalid_user_tokens_are_rejected(
    jwt_auth: Authenticator, keys: Keys, make: Any, message: str
) -> None:
    with pytest.raises(AuthenticationError, match=message):
        jwt_auth.authenticate(authorization=f"Bearer {make(keys)}")


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer ", "Bearer"])
def test_missing_or_malformed_authorization_is_rejected(jwt_auth: Authenticator, header: str | None) -> None:
    with pytest.raises(AuthenticationError):
        jwt_auth.authenticate(authorization=header)


def test_an_unreachable_jwks_is_unavailable_not_unauthenticated(keys: Keys) -> None:
    auth = Authenticator(settings(jwks_url="http://127.0.0.1:1/jwks.json"))
    with pytest.raises(UnavailableError, match="PAO_JWKS_URL"):
        auth.authenticate(authorization=f"Bearer {token(keys)}")


# ---- service tokens ------------------------------------------------------------------------------


@pytest.fixture
def service_auth(jwks_url: str) -> Authenticator:
    tokens = {"backstage": SecretStr("svc-token-0123456789"), "ci": SecretStr("ci-token-9876543210")}
    return Authenticator(settings(service_tokens=tokens, jwks_url=jwks_url))


def test_a_service_token_acts_on_behalf_of_the_named_user(service_auth: Authenticator) -> None:
    user = service_auth.authenticate(
        authorization="Bearer svc-token-0123456789",
        on_behalf_of="user:default/jdoe",
        on_behalf_of_teams="group:default/platform-databases, developer-experience",
        team_ids=TEAM_IDS,
    )
    assert (user.ref, user.via, user.service) == ("user:default/jdoe", "service", "backstage")
    assert user.teams == ("platform-databases", "developer-experience")
    assert Role.TEAM_MEMBER in user.roles


def test_a_service_token_without_a_user_acts_as_itself(service_auth: Authenticator) -> None:
    caller = service_auth.authenticate(authorization="Bearer ci-token-9876543210")
    assert (caller.ref, caller.service, caller.teams) == ("service:default/ci", "ci", ())


def test_a_wrong_service_token_falls_through_to_jwt_and_fails(service_auth: Authenticator) -> None:
    with pytest.raises(AuthenticationError):
        service_auth.authenticate(
            authorization="Bearer svc-token-0123456788", on_behalf_of="user:default/jdoe"
        )


def test_service_tokens_alone_reject_anything_else() -> None:
    auth = Authenticator(settings(service_tokens={"b": SecretStr("tok-abcdefghijkl")}))
    assert not auth.dev_mode
    with pytest.raises(AuthenticationError, match="service token"):
        auth.authenticate(authorization="Bearer nope")


@pytest.mark.parametrize("who", ["group:default/admins", "user:a/b/c", "jdoe smith"])
def test_on_behalf_of_must_name_a_user(service_auth: Authenticator, who: str) -> None:
    with pytest.raises(AuthenticationError, match="user"):
        service_auth.authenticate(authorization="Bearer svc-token-0123456789", on_behalf_of=who)


# ---- dev identity --------------------------------------------------------------------------------


def test_without_configuration_development_runs_as_the_dev_identity_with_a_loud_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="pao_backend.auth.service"):
        auth = Authenticator(
            settings(dev_identity="user:default/dev", dev_identity_teams=["developer-experience"])
        )
    assert auth.dev_mode
    assert "AUTHENTICATION IS OFF" in caplog.text
    user = auth.authenticate(authorization=None, team_ids=TEAM_IDS)
    assert (user.ref, user.teams, user.via) == ("user:default/dev", ("developer-experience",), "dev")
    assert Role.TEAM_MEMBER in user.roles
    other = auth.authenticate(authorization=None, on_behalf_of="user:default/amy", on_behalf_of_teams="")
    assert (other.ref, other.teams) == ("user:default/amy", ())


def test_production_settings_never_allow_the_dev_identity() -> None:
    with pytest.raises(ValueError, match="PAO_JWKS_URL"):
        Settings(environment="production", secret_key=SecretStr("x" * 40), _env_file=None)


# ---- through FastAPI -----------------------------------------------------------------------------


def app_with(s: Settings) -> TestClient:
    app = FastAPI()
    app.state.settings = s
    install_error_handlers(app)

    @app.get("/me")
    def me(user: CurrentUserDep) -> dict[str, Any]:
        return {"ref": user.ref, "teams": list(user.teams), "roles": sorted(user.roles), "via": user.via}

    @app.get("/admin")
    def admin(user: AdminUserDep) -> dict[str, str]:
        return {"ref": user.ref}

    return TestClient(app)


def test_current_user_dependency_answers_401_in_backstage_error_shape(jwks_url: str, keys: Keys) -> None:
    client = app_with(settings(jwks_url=jwks_url, admins=["user:default/boss"]))
    response = client.get("/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert body["error"]["name"] == "AuthenticationError"
    assert body["response"] == {"statusCode": 401}
    assert body["request"] == {"method": "GET", "url": "/me"}

    ok = client.get("/me", headers={"Authorization": f"Bearer {token(keys)}"})
    assert ok.status_code == 200
    assert ok.json()["ref"] == "user:default/jdoe"
    assert client.get("/admin", headers={"Authorization": f"Bearer {token(keys)}"}).status_code == 403
    boss = token(keys, sub="user:default/boss")
    assert client.get("/admin", headers={"Authorization": f"Bearer {boss}"}).json() == {
        "ref": "user:default/boss"
    }


def test_identity_is_plain_data() -> None:
    user = Identity(ref="user:default/x", name="x")
    assert user.roles == {Role.DEVELOPER} and user.via == "dev" and not user.is_admin
