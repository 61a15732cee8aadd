"""The registry's database: the engine (SQLite with WAL and a busy timeout, or any SQLAlchemy URL),
created on first use; one transaction per call, retried on transient conflicts; the schema created
once; per-key write locks.

:class:`RegistryDatabase` knows nothing of models: it runs a function of a
:class:`~sqlalchemy.engine.Connection` in one transaction (:meth:`~RegistryDatabase.write`,
:meth:`~RegistryDatabase.read`). :class:`~cryptoforecast.registry.model_registry.ModelRegistry`
holds one and passes it the row functions of :mod:`~cryptoforecast.registry.rows` and
:mod:`~cryptoforecast.registry.registration`."""

from __future__ import annotations

import hashlib
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cryptoforecast.exceptions import RegistryUnavailable
from cryptoforecast.paths import home_dir
from cryptoforecast.redaction import describe_url, password_of, redact
from cryptoforecast.registry.engine import make_engine, parse_url
from cryptoforecast.registry.schema import CHANGES_SQL, changes, count_change, create_schema

__all__ = ["REGISTRY_URL_ENV", "RegistryDatabase", "default_registry_url", "lock_key"]

REGISTRY_URL_ENV = "CRYPTOFORECAST_REGISTRY_URL"
_SCHEMA_LOCK_ID = 0x43460000  # advisory lock id for schema creation on PostgreSQL
_TRANSIENT_PG = {"40001", "40P01", "55P03", "23505"}
T = TypeVar("T")


def default_registry_url() -> str:
    """``$CRYPTOFORECAST_REGISTRY_URL`` or SQLite at ``$CRYPTOFORECAST_HOME/registry.db``."""
    url = os.environ.get(REGISTRY_URL_ENV)
    if url:
        return url
    return f"sqlite:///{home_dir(create=False) / 'registry.db'}"


class RegistryDatabase:
    """The registry's database: an engine created on first use, transactions retried on
    transient conflicts, the schema created before the first one.

    ``url`` defaults to :func:`default_registry_url`; ``max_attempts`` and ``busy_timeout`` are
    :class:`~cryptoforecast.registry.model_registry.ModelRegistry`'s. ``label`` names the
    database in error messages (default: its redacted URL).
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        max_attempts: int = 60,
        busy_timeout: float = 30.0,
        label: str | None = None,
    ) -> None:
        self.url = url or default_registry_url()
        self.max_attempts = max_attempts
        self.busy_timeout = busy_timeout
        self.label = label or f"RegistryDatabase(url={describe_url(self.url)!r})"
        self._engine: Engine | None = None
        self._schema_ready = False

    def __repr__(self) -> str:
        return self.label

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, created on first use."""
        if self._engine is None:
            self._engine = self._create_engine()
        return self._engine

    def _create_engine(self) -> Engine:
        url = parse_url(self.url, "registry", REGISTRY_URL_ENV)
        if url.get_backend_name() != "sqlite":
            return make_engine(self.url, "registry", REGISTRY_URL_ENV, pool_pre_ping=True)
        if url.database and url.database != ":memory:":
            folder = Path(url.database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise RegistryUnavailable(
                    f"cannot create the folder {str(folder)!r} of the SQLite registry "
                    f"({type(exc).__name__}: {exc.strerror or exc}). Fix {REGISTRY_URL_ENV} or "
                    "the url= argument, or create the folder."
                ) from None
        engine = make_engine(
            self.url, "registry", REGISTRY_URL_ENV, connect_args={"timeout": self.busy_timeout}
        )
        busy_ms = int(self.busy_timeout * 1000)

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout = {busy_ms}")
            cur.execute("PRAGMA foreign_keys = ON")
            for _ in range(50):  # switching to WAL needs a brief exclusive lock
                try:
                    cur.execute("PRAGMA journal_mode = WAL")
                    break
                except Exception as exc:  # sqlite3.OperationalError: database is locked
                    if "locked" not in str(exc) and "busy" not in str(exc):
                        raise
                    time.sleep(0.05)
            cur.execute("PRAGMA synchronous = NORMAL")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            write = conn.get_execution_options().get("cf_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine

    def close(self) -> None:
        """Dispose of the connection pool (the registry reconnects if used again)."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def _is_transient(self, exc: sa.exc.DBAPIError) -> bool:
        sqlstate = getattr(exc.orig, "sqlstate", None)
        if sqlstate in _TRANSIENT_PG:
            return True
        text = str(exc.orig).lower()
        return isinstance(exc, sa.exc.OperationalError | sa.exc.IntegrityError) and (
            "database is locked" in text
            or "database is busy" in text
            or "unique constraint" in text
        )

    def _transaction(self, fn: Callable[[Connection], T], *, write: bool, what: str) -> T:
        """Run ``fn`` in one transaction, retrying transient conflicts with backoff."""
        delay = 0.005
        for attempt in range(1, self.max_attempts + 1):
            try:
                with self.engine.connect() as conn:
                    conn.execution_options(cf_write=write)
                    with conn.begin():
                        return fn(conn)
            except sa.exc.DBAPIError as exc:
                if not self._is_transient(exc) or attempt == self.max_attempts:
                    raise RegistryUnavailable(
                        f"registry {what} failed on {self!r} after {attempt} attempt(s): "
                        f"{type(exc.orig).__name__}: "
                        f"{redact(str(exc.orig).strip(), password_of(self.url))}. Check that the "
                        "database is reachable and writable."
                    ) from None
                time.sleep(delay * random.uniform(0.5, 1.5))
                delay = min(delay * 2, 0.5)
        raise AssertionError("unreachable")  # pragma: no cover

    def write(self, fn: Callable[[Connection], T], what: str) -> T:
        """``fn(conn)`` in one write transaction (SQLite: ``BEGIN IMMEDIATE``), which also moves
        the change counter (:meth:`change_stamp`); ``what`` names the operation in the error
        raised when the database stays unavailable."""
        self._ensure_schema()

        def counted(conn: Connection) -> T:
            result = fn(conn)
            count_change(conn)  # last: a writer holds the counter's row only until its commit
            return result

        return self._transaction(counted, write=True, what=what)

    def change_stamp(self) -> int:
        """A number every committed :meth:`write` moves, whichever process made it (it is
        stored, moved in the write's own transaction); reads and failed writes leave it.

        Asked on the driver's own cursor of a pooled connection (one statement, read as it is
        committed: a tenth of a transaction through SQLAlchemy, and it is asked per request);
        any failure there asks again through :meth:`read`, retried and worded as every read."""
        self._ensure_schema()
        try:
            conn = self.engine.raw_connection()
            try:
                cursor = conn.cursor()
                cursor.execute(CHANGES_SQL)
                row = cursor.fetchone()
                cursor.close()
            finally:
                conn.close()  # back to the pool, its transaction (if any) rolled back
            return int(row[0]) if row is not None else 0
        except Exception:
            return self.read(changes, "change_stamp")

    def read(self, fn: Callable[[Connection], T], what: str) -> T:
        """``fn(conn)`` in one read transaction."""
        self._ensure_schema()
        return self._transaction(fn, write=False, what=what)

    def _ensure_schema(self) -> None:
        if self._schema_ready:
            return

        def create(conn: Connection) -> int:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK_ID})
            return create_schema(conn)

        self._transaction(create, write=True, what="schema creation")
        self._schema_ready = True


def lock_key(conn: Connection, key: tuple[str, str, int]) -> None:
    """Serialize writers of one key. SQLite writers already hold the database write lock."""
    if conn.dialect.name == "postgresql":
        digest = hashlib.sha256(repr(key).encode()).digest()
        lock_id = int.from_bytes(digest[:8], "big", signed=True)
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_id})
