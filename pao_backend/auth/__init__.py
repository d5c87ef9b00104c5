"""Identity and roles: Backstage user tokens, service tokens acting for a user, the dev identity."""

from pao_backend.auth.models import EntityRef, Identity, Role, parse_entity_ref, roles_for
from pao_backend.auth.service import ON_BEHALF_OF, ON_BEHALF_OF_TEAMS, Authenticator

__all__ = [
    "ON_BEHALF_OF",
    "ON_BEHALF_OF_TEAMS",
    "Authenticator",
    "EntityRef",
    "Identity",
    "Role",
    "parse_entity_ref",
    "roles_for",
]
