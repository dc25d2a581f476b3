"""Database work off the UI thread, in two lanes, with real cancellation.

The workbench asks the database for a page on every keystroke and for a full
count, sums and groups after it. The *page* lane (one thread) answers the
small questions the screen waits for; the *background* lane (another thread)
answers the slow ones. Each lane keeps its own connection (peewee's
connections are per thread) and one thread per lane keeps it open.

When the user types on, the background lane's running statement is stopped
(``sqlite3.Connection.interrupt`` / psycopg2 ``cancel``) so a stale count never
holds the database while the next keystroke waits.
"""
from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import peewee

SQLITE_MMAP_BYTES = 4 << 30
SQLITE_LANE_CACHE_KIB = 4_000


class Lane:
    def __init__(self, db, name: str):
        self.db = db
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"kehu-{name}")
        self._conn = None
        self._busy = threading.Event()

    def _call(self, fn: Callable, args: tuple) -> Any:
        self._busy.set()
        try:
            if self._conn is None:
                self._conn = self.db.connection()
                self._tune()
            return fn(*args)
        except Exception:
            self._recover()
            raise
        finally:
            self._busy.clear()

    def _tune(self) -> None:
        """SQLite: read the file through mmap (page cache shared with the OS, not
        counted as this process's memory) and keep a small private cache per lane."""
        if isinstance(self.db, peewee.SqliteDatabase):
            self.db.execute_sql(f"PRAGMA mmap_size = {SQLITE_MMAP_BYTES}")
            self.db.execute_sql(f"PRAGMA cache_size = -{SQLITE_LANE_CACHE_KIB}")

    def _recover(self) -> None:
        """After an interrupted or failed statement, leave the connection usable."""
        try:
            if not self.db.is_closed() and self.db.in_transaction():
                self.db.rollback()
            elif hasattr(self._conn, "rollback") and getattr(self._conn, "status", 1) != 1:
                self._conn.rollback()  # psycopg2: an aborted implicit transaction
        except Exception:  # noqa: BLE001 - best effort; the next call reconnects if needed
            pass

    async def run(self, fn: Callable, *args) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, self._call, fn, args)

    def interrupt(self) -> None:
        """Stop the statement running in this lane now (no-op when idle)."""
        conn = self._conn
        if conn is None or not self._busy.is_set():
            return
        stop = getattr(conn, "interrupt", None) or getattr(conn, "cancel", None)
        if stop is not None:
            try:
                stop()
            except Exception:  # noqa: BLE001 - the statement may have just finished
                pass

    def close(self) -> None:
        self.interrupt()  # a long count must not hold up quitting

        def close_conn():
            if not self.db.is_closed():
                self.db.close()

        try:
            self.executor.submit(close_conn).result(timeout=2)
        except Exception:  # noqa: BLE001 - closing at exit must not raise
            pass
        self.executor.shutdown(wait=False, cancel_futures=True)


class DbRunner:
    """``await runner.page(fn, ...)`` and ``await runner.background(fn, ...)``."""

    def __init__(self, db):
        self.page_lane = Lane(db, "page")
        self.background_lane = Lane(db, "count")

    async def page(self, fn: Callable, *args) -> Any:
        return await self.page_lane.run(fn, *args)

    async def background(self, fn: Callable, *args) -> Any:
        return await self.background_lane.run(fn, *args)

    def cancel_background(self) -> None:
        self.background_lane.interrupt()

    def cancel_all(self) -> None:
        """A new query makes everything running stale: stop both lanes' statements."""
        self.page_lane.interrupt()
        self.background_lane.interrupt()

    def close(self) -> None:
        self.page_lane.close()
        self.background_lane.close()
