"""Authentication: who is calling, from the request's headers.

In order:
1. Development without any configured authentication (no JWKS, no service tokens, environment
   development/test): everyone is the fixed dev identity (settings.dev_identity), logged loudly once.
   `X-PAO-On-Behalf-Of` may switch the user, so that roles can be tried locally.
2. `Authorization: Bearer <service token>` matching a configured service token (PAO_SERVICE_TOKENS,
   constant-time compare): the caller acts for the user in `X-PAO-On-Behalf-Of` (teams in
   `X-PAO-On-Behalf-Of-Teams`), or as itself (`service:default/<name>`) without that header.
3. `Authorization: Bearer <Backstage user token>`: a JWT verified against PAO_JWKS_URL; `sub` is the user
   entity ref, group refs in the `ent` claim are the user's teams.
Anything else is a 401.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Collection
from typing import Any

import jwt
from jwt import PyJWKClient

from pao_backend.auth.models import EntityRef, Identity, parse_entity_ref, roles_for
from pao_backend.errors import AuthenticationError, UnavailableError
from pao_backend.settings import Settings

logger = logging.getLogger(__name__)

ON_BEHALF_OF = "X-PAO-On-Behalf-Of"
ON_BEHALF_OF_TEAMS = "X-PAO-On-Behalf-Of-Teams"
# Asymmetric only: a token must be signed by the key set's private key, never by a shared secret.
ALGORITHMS = ["ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"]


class Authenticator:
    """Turns request headers into an Identity; built once per app from the settings."""

    def __init__(self, settings: Settings, *, jwks_client: PyJWKClient | None = None) -> None:
        self._settings = settings
        self._service_tokens = {
            name: token.get_secret_value() for name, token in settings.service_tokens.items()
        }
        self._jwks = jwks_client
        if self._jwks is None and settings.jwks_url:
            self._jwks = PyJWKClient(settings.jwks_url, cache_jwk_set=True, lifespan=300, timeout=10)
        self._admins = frozenset(settings.admins)
        self.dev_mode = (
            self._jwks is None
            and not self._service_tokens
            and settings.environment in ("development", "test")
        )
        if self.dev_mode:
            logger.warning(
                "AUTHENTICATION IS OFF: no PAO_JWKS_URL and no PAO_SERVICE_TOKENS are configured, so every "
                "caller is %s (teams %s). Configure one of them before anyone else can reach this server.",
                settings.dev_identity,
                ", ".join(settings.dev_identity_teams) or "none",
            )

    def authenticate(
        self,
        *,
        authorization: str | None,
        on_behalf_of: str | None = None,
        on_behalf_of_teams: str | None = None,
        team_ids: Collection[str] = (),
    ) -> Identity:
        """The caller's Identity; AuthenticationError (401) when no valid credential is given."""
        known_teams = frozenset(team_ids)
        if self.dev_mode:
            ref = _user_ref(on_behalf_of) if on_behalf_of else _user_ref(self._settings.dev_identity)
            teams = (
                _teams(on_behalf_of_teams)
                if on_behalf_of_teams is not None
                else tuple(_teams(",".join(self._settings.dev_identity_teams)))
            )
            return self._identity(ref, teams, known_teams, via="dev")
        token = _bearer(authorization)
        service = self._service_name(token)
        if service is not None:
            if not on_behalf_of:
                ref = EntityRef("service", "default", service)
                return self._identity(ref, (), known_teams, via="service", service=service)
            teams = _teams(on_behalf_of_teams) if on_behalf_of_teams else ()
            return self._identity(_user_ref(on_behalf_of), teams, known_teams, via="service", service=service)
        if self._jwks is None:
            raise AuthenticationError(
                "the bearer token is not a configured service token; send a valid PAO service token "
                f"(PAO_SERVICE_TOKENS) with {ON_BEHALF_OF}: user:default/<name>"
            )
        claims = self._verify_jwt(token)
        ref = _user_ref(str(claims.get("sub") or ""), what="the token's `sub` claim")
        ent = claims.get("ent") or []
        groups = (
            [parse_entity_ref(str(e), default_kind="group") for e in ent] if isinstance(ent, list) else []
        )
        teams = tuple(dict.fromkeys(g.name for g in groups if g is not None and g.kind == "group"))
        return self._identity(
            ref,
            teams,
            known_teams,
            via="jwt",
            name=str(claims.get("name") or ""),
            email=str(claims.get("email") or ""),
        )

    def _service_name(self, token: str) -> str | None:
        found = None
        for name, secret in self._service_tokens.items():
            # Compare against every token so the time taken does not tell which one nearly matched.
            if hmac.compare_digest(token.encode(), secret.encode()):
                found = name
        return found

    def _verify_jwt(self, token: str) -> dict[str, Any]:
        assert self._jwks is not None
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as exc:
            raise UnavailableError(
                f"cannot fetch the signing keys from PAO_JWKS_URL ({self._settings.jwks_url}): {exc}; "
                "check that Backstage's auth backend is reachable"
            ) from exc
        except (jwt.PyJWKClientError, jwt.InvalidTokenError) as exc:
            raise AuthenticationError(f"the bearer token is not a valid Backstage token: {exc}") from exc
        audience = self._settings.jwt_audience
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=ALGORITHMS,
                audience=audience,
                options={"require": ["exp", "sub"], "verify_aud": audience is not None},
                leeway=30,
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationError("the Backstage token has expired; sign in again") from exc
        except jwt.InvalidTokenError as exc:
            raise AuthenticationError(f"the bearer token is not a valid Backstage token: {exc}") from exc
        return claims

    def _identity(
        self,
        ref: EntityRef,
        teams: tuple[str, ...],
        known_teams: frozenset[str],
        *,
        via: Any,
        service: str | None = None,
        name: str = "",
        email: str = "",
    ) -> Identity:
        ref_text = str(ref)
        return Identity(
            ref=ref_text,
            name=name or ref.name,
            email=email,
            teams=teams,
            roles=roles_for(ref_text, teams, team_ids=known_teams, admins=self._admins),
            via=via,
            platform_teams=tuple(t for t in teams if t in known_teams),
            service=service,
        )


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise AuthenticationError(
            "no credentials: send `Authorization: Bearer <token>` with a Backstage user token "
            "or a PAO service token"
        )
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("the Authorization header must be `Bearer <token>`")
    return token.strip()


def _user_ref(value: str, *, what: str = ON_BEHALF_OF) -> EntityRef:
    ref = parse_entity_ref(value, default_kind="user")
    if ref is None or ref.kind != "user":
        raise AuthenticationError(f"{what} must name a user entity such as user:default/jdoe, not {value!r}")
    return ref


def _teams(value: str) -> tuple[str, ...]:
    names: list[str] = []
    for part in value.split(","):
        if not part.strip():
            continue
        ref = parse_entity_ref(part, default_kind="group")
        if ref is None or ref.kind != "group":
            raise AuthenticationError(
                f"{ON_BEHALF_OF_TEAMS} lists teams as group refs or names "
                f"(group:default/payments), not {part!r}"
            )
        names.append(ref.name)
    return tuple(dict.fromkeys(names))
