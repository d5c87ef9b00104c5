"""Request secrets, encrypted at rest with Fernet and deleted when the request finishes.

The key comes from PAO_SECRET_KEY (required in production). Without it (development, tests) a random
key is created once in `<data_dir>/secret.key`, readable by the owner only.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import delete
from sqlalchemy.orm import Session

from pao_backend.errors import UnavailableError
from pao_backend.persistence.db import add_at_commit
from pao_backend.persistence.tables import RequestSecretRow
from pao_backend.settings import Settings


def secret_box(settings: Settings) -> Fernet:
    """The Fernet that encrypts request secrets for this deployment."""
    if settings.secret_key is not None:
        digest = hashlib.sha256(settings.secret_key.get_secret_value().encode()).digest()
        return Fernet(base64.urlsafe_b64encode(digest))
    return Fernet(_development_key(settings.data_dir / "secret.key"))


def _development_key(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    key = Fernet.generate_key()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


def store_secrets(session: Session, box: Fernet, *, request_id: str, secrets: dict[str, str]) -> None:
    """Store a new request's secrets, encrypted, when its transaction commits."""
    if not secrets:
        return
    token = box.encrypt(json.dumps(secrets).encode())
    add_at_commit(session, RequestSecretRow(request_id=request_id, ciphertext=token))


def decrypt_secrets(box: Fernet, *, request_id: str, ciphertext: bytes | None) -> dict[str, str]:
    """A request's secrets from their stored ciphertext (None: it has none)."""
    if ciphertext is None:
        return {}
    try:
        value = json.loads(box.decrypt(ciphertext))
    except InvalidToken as exc:
        raise UnavailableError(
            f"the secrets of request {request_id} cannot be decrypted: PAO_SECRET_KEY changed since it was "
            "submitted; restore the old key or cancel and resubmit the request"
        ) from exc
    return {str(k): str(v) for k, v in value.items()}


def delete_secrets(session: Session, *, request_id: str) -> None:
    # Core-level: no loaded secret rows need syncing, and the ORM's evaluation of them costs more than
    # the statement.
    session.connection().execute(delete(RequestSecretRow).where(RequestSecretRow.request_id == request_id))
