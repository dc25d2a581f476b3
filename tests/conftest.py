"""Shared fixtures.

Every test runs with its own config and data folders (KEHU_CONFIG_DIR,
KEHU_DATA_DIR) and English messages unless it asks for Chinese.

``db_url`` / ``store`` run a test on SQLite and on PostgreSQL. The PostgreSQL
server is KEHU_TEST_PG_URL (default postgresql://127.0.0.1:5432/test); each
pytest-xdist worker gets a database of its own on it. Without a server the
PostgreSQL cases skip with the reason — except in CI (CI=true), where they fail.
"""
from __future__ import annotations

import os

import peewee
import pytest
from hypothesis import HealthCheck, settings

from kehu.models import i18n
from kehu.models.store import Store

# Property-based tests (hypothesis): the "ci" profile keeps the whole suite
# within its time on 2 cores; `HYPOTHESIS_PROFILE=fuzz pytest tests -m fuzz`
# runs many more examples for whoever wants them.
settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                 HealthCheck.too_slow])
settings.register_profile("dev", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                 HealthCheck.too_slow])
settings.register_profile("fuzz", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                 HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE")
                      or ("ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "dev"))

PG_URL = os.environ.get("KEHU_TEST_PG_URL", "postgresql://127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
_pg_state: dict[str, object] = {}


@pytest.fixture(autouse=True)
def kehu_env(tmp_path, monkeypatch):
    config = tmp_path / "config"
    data = tmp_path / "data"
    config.mkdir()
    data.mkdir()
    monkeypatch.setenv("KEHU_CONFIG_DIR", str(config))
    monkeypatch.setenv("KEHU_DATA_DIR", str(data))
    monkeypatch.setenv("KEHU_LOG_DIR", str(tmp_path / "log"))
    monkeypatch.setenv("KEHU_LANG", "en")
    monkeypatch.delenv("KEHU_DB", raising=False)
    i18n.set_lang("en")
    yield
    i18n.set_lang("en")


def _worker_pg_url(worker: str) -> str:
    """A database of this test process's own on the test server (created once,
    dropped at the end of the session), so parallel workers and parallel runs
    never share one."""
    if "url" in _pg_state:
        return _pg_state["url"]  # type: ignore[return-value]
    if "error" in _pg_state:
        raise RuntimeError(_pg_state["error"])
    try:
        import psycopg2
        from psycopg2 import sql

        conn = psycopg2.connect(PG_URL, connect_timeout=3)
        conn.autocommit = True
        name = f"kehu_test_{worker}_{os.getpid()}"
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if not cur.fetchone():
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        conn.close()
        base = PG_URL.rsplit("/", 1)[0]
        _pg_state["url"] = f"{base}/{name}"
    except Exception as exc:  # noqa: BLE001
        _pg_state["error"] = f"no PostgreSQL server at {PG_URL}: {str(exc).strip()}"
        raise RuntimeError(_pg_state["error"]) from None
    return _pg_state["url"]  # type: ignore[return-value]


@pytest.fixture(scope="session", autouse=True)
def _drop_worker_pg_database():
    yield
    url = _pg_state.get("url")
    if not url:
        return
    import psycopg2

    conn = psycopg2.connect(PG_URL, connect_timeout=3)
    conn.autocommit = True
    name = str(url).rsplit("/", 1)[1]
    with conn.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
    conn.close()


def reset_pg(url: str) -> None:
    db = peewee.PostgresqlDatabase(None)
    from playhouse.db_url import parse

    db.init(**parse(url))
    db.connect()
    db.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    db.close()


def pg_url_or_skip(worker_id: str = "master") -> str:
    try:
        url = _worker_pg_url(worker_id)
    except RuntimeError as exc:
        if IN_CI:
            pytest.fail(f"CI=true but {exc}")
        pytest.skip(str(exc))
    reset_pg(url)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path, worker_id):
    """A fresh, empty database URL: SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'kehu.db'}"
    return pg_url_or_skip(worker_id)


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'kehu.db'}"


@pytest.fixture
def store(db_url):
    s = Store.open(db_url, user="tester")
    yield s
    s.close()
