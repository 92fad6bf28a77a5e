"""The migrations build the schema the models describe, on both databases."""

import sqlalchemy as sa

from backend import migrate
from backend.db import make_engine
from tests.conftest import new_database


def test_upgrade_empty_database_to_head_matches_models(database_kind, tmp_path):
    with new_database(database_kind, tmp_path) as url:
        engine = make_engine(url)
        try:
            migrate.upgrade(engine)
            migrate.check(engine)  # raises when autogenerate finds a difference
            with engine.connect() as conn:
                assert "users" in sa.inspect(conn).get_table_names()
                if database_kind == "sqlite":
                    assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                    assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        finally:
            engine.dispose()
