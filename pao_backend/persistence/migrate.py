"""Apply PAO's Alembic migrations (`pao migrate`, and on every start).

One chain lives in `persistence/migrations/versions`; a new revision names the current head as its
`down_revision` (`alembic -c <generated config> revision` is not needed: copy the newest file's shape).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from pao_backend.persistence.db import Database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"the migration chain must have one head, found {heads}: merge the branches")
    return heads[0]


def migrate(database: Database) -> str:
    """Upgrade to head; concurrent starts on PostgreSQL wait for each other. Returns the revision."""
    with database.engine.connect() as connection:
        if not database.is_sqlite:
            with connection.begin():
                connection.execute(text("SELECT pg_advisory_xact_lock(7214593321)"))
                _upgrade(database.url, connection)
        else:
            _upgrade(database.url, connection)
            connection.commit()
        current = MigrationContext.configure(connection).get_current_revision()
    return current or ""


def _upgrade(url: str, connection: Connection) -> None:
    config = alembic_config(url)
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
