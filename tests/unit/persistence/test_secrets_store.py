"""Request secrets are encrypted at rest; the development key file is private to its owner."""

from __future__ import annotations

import stat
from pathlib import Path

from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import select

from pao_backend.persistence.db import Database
from pao_backend.persistence.migrate import head_revision, migrate
from pao_backend.persistence.secrets import decrypt_secrets, delete_secrets, secret_box, store_secrets
from pao_backend.persistence.tables import RequestSecretRow
from pao_backend.settings import Settings
from tests.support.rows import bare_request


def _load(db: Database, box: Fernet, request_id: str) -> dict[str, str]:
    with db.reading() as session:
        stored = session.scalar(
            select(RequestSecretRow.ciphertext).where(RequestSecretRow.request_id == request_id)
        )
    return decrypt_secrets(box, request_id=request_id, ciphertext=stored)


def test_secrets_are_stored_encrypted_and_deleted(tmp_path: Path) -> None:
    settings = Settings(environment="test", data_dir=tmp_path)
    box = secret_box(settings)
    key_file = tmp_path / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    db = Database.from_settings(settings)
    assert migrate(db) == head_revision()
    with db.transaction() as session:
        session.add(bare_request("r1"))
        session.flush()
        store_secrets(session, box, request_id="r1", secrets={"secret.value": "hunter2-xyz"})
    raw = (tmp_path / "pao.db").read_bytes()
    assert b"hunter2-xyz" not in raw
    assert _load(db, box, "r1") == {"secret.value": "hunter2-xyz"}
    with db.transaction() as session:
        delete_secrets(session, request_id="r1")
    assert _load(db, box, "r1") == {}
    db.dispose()


def test_a_configured_key_is_used_and_is_stable(tmp_path: Path) -> None:
    settings = Settings(environment="test", data_dir=tmp_path, secret_key=SecretStr("k" * 40))
    token = secret_box(settings).encrypt(b"x")
    assert secret_box(settings).decrypt(token) == b"x"
    assert not (tmp_path / "secret.key").exists()
