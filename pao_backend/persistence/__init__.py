"""PAO's database: engine and sessions (db.py), tables, repositories, and the Alembic migration chain."""
