"""Work on chunks of rows in other processes, the results back in order.

A big import cleans its values and builds their search text here while the
calling process inserts the rows before them: on two cores the Python work and
SQLite's overlap. The workers are plain ``python -m kehu.models.workers``
processes speaking pickle over their stdin/stdout, not ``multiprocessing``:
that re-runs the caller's ``__main__`` in each child (a script without an
``if __name__ == "__main__"`` guard would start import after import), and
forking the TUI, which imports from a thread, can hang.

``start(task, init, init_args, workers)`` starts the processes and runs
``init(*init_args)`` once in each; ``ordered_stream(pool)`` then sends worker k
of n the pair ``(k, n)``: its task reads the input itself and yields the
results of its share (items k, k + n, …), which come back in input order, and
stops them. A worker waits while ``OUTBOX_FRAMES`` of its results are not yet
taken, so a million-row file never sits in memory. Functions are named
``"module:function"``; a task returning a plain value sends that one reply.
"""
from __future__ import annotations

import importlib
import inspect
import os
import pickle
import queue
import subprocess
import sys
import threading
import traceback
from typing import Any, Callable, Iterator

_PROTOCOL = pickle.HIGHEST_PROTOCOL
#: Results a worker may have waiting for the caller.
OUTBOX_FRAMES = 64


class WorkerFailed(Exception):
    """A worker could not start or raised; ``str()`` names what happened (a short
    traceback), ``kind`` and ``message`` the exception the task raised."""

    def __init__(self, text: str, kind: str = "", message: str = ""):
        super().__init__(text)
        self.kind, self.message = kind, message


def _write(stream, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=_PROTOCOL)
    stream.write(len(data).to_bytes(8, "little"))
    stream.write(data)
    stream.flush()


def _read_frame(stream) -> bytes | None:
    """One message's bytes, None at the end of the stream."""
    head = stream.read(8)
    if len(head) < 8:
        return None
    size = int.from_bytes(head, "little")
    data = stream.read(size)
    return data if len(data) == size else None


def _resolve(name: str) -> Callable:
    module, _, func = name.partition(":")
    return getattr(importlib.import_module(module), func)


class _Worker:
    def __init__(self, task: str, init: str, init_args: tuple):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, env=_child_env())
        # bounded: a worker streaming results faster than they are taken waits
        self.outbox: queue.Queue = queue.Queue(maxsize=OUTBOX_FRAMES)
        self.reader = threading.Thread(target=self._read, name="kehu-worker-read", daemon=True)
        self.reader.start()
        self.send((task, init, init_args))

    def _read(self) -> None:
        """Take the worker's results off its pipe as soon as they are written, so it
        goes on with its share while the caller works (up to ``OUTBOX_FRAMES``)."""
        try:
            while (frame := _read_frame(self.proc.stdout)) is not None:
                self.outbox.put(frame)
        except (OSError, ValueError):
            pass
        self.outbox.put(None)

    def send(self, item: Any) -> None:
        """Write one item to the worker (small: its set-up, then its share). A worker
        that has died is reported by the next ``receive``."""
        try:
            _write(self.proc.stdin, item)
        except (BrokenPipeError, OSError, ValueError):
            pass

    def receive(self) -> Any:
        return self.receive_frame()[1]

    def receive_frame(self) -> tuple[str, Any]:
        """The next message: ("ok", result), ("more", value) or ("end", None)."""
        frame = self.outbox.get()
        if frame is None:
            self.outbox.put(None)
            raise WorkerFailed(f"worker process ended (exit code {self.proc.wait()})")
        status, value = pickle.loads(frame)
        if status == "error":
            raise WorkerFailed(*value)
        return status, value

    def close(self, *, kill: bool = False) -> None:
        try:
            self.proc.stdin.close()  # the worker's loop ends
        except (BrokenPipeError, OSError):
            pass
        if kill:
            self.proc.kill()
            while self.reader.is_alive():  # let a reader waiting on a full outbox finish
                try:
                    self.outbox.get_nowait()
                except queue.Empty:
                    self.reader.join(0.01)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(timeout=5)
        self.proc.stdout.close()


def _child_env() -> dict[str, str]:
    """The child must import this very package, also when it runs from a source
    tree that is not installed: the caller's import path goes along."""
    env = dict(os.environ)
    paths = [p for p in sys.path if p]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


def start(task: str, init: str, init_args: tuple, workers: int) -> list[_Worker]:
    """Start ``workers`` processes and wait until each has run ``init``."""
    started: list[_Worker] = []
    try:
        for _ in range(workers):
            started.append(_Worker(task, init, init_args))
        for worker in started:
            worker.receive()  # "ready"
    except BaseException:
        for worker in started:
            worker.close(kill=True)
        raise
    return started


def ordered_stream(pool: list[_Worker]) -> Iterator[Any]:
    """For a task that reads its input itself: worker k of n is sent ``(k, n)``
    and its task yields the results of its share (items k, k + n, k + 2n … of
    the input); here they come back in input order. The workers are stopped
    when the iteration ends or is abandoned. Nothing of the input passes
    through this process (on two cores, reading and sending a million CSV rows
    cost the importing process ~5 s)."""
    n, done = len(pool), False
    try:
        for k, worker in enumerate(pool):
            worker.send((k, n))
        i = 0
        while (frame := pool[i % n].receive_frame())[0] == "more":
            yield frame[1]
            i += 1
        for j in range(1, n):  # the other shares end there too
            pool[(i + j) % n].receive_frame()
        done = True
    finally:
        for worker in pool:
            worker.close(kill=not done)


def _error() -> tuple:
    kind, exc = sys.exc_info()[:2]
    return ("error", (traceback.format_exc(limit=3), kind.__name__ if kind else "", str(exc)))


def _main() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the results
    try:
        task_name, init_name, init_args = pickle.loads(_read_frame(stdin))
        _resolve(init_name)(*init_args)
        task = _resolve(task_name)
        reply: tuple = ("ok", "ready")
    except BaseException:  # noqa: BLE001 - reported to the caller
        reply = _error()
        task = None
    _write(stdout, reply)
    if task is None:
        return
    while (frame := _read_frame(stdin)) is not None:
        item = pickle.loads(frame)
        try:
            result = task(item)
            if inspect.isgenerator(result):  # a stream: each value, then the end
                for value in result:
                    _write(stdout, ("more", value))
                result, reply = None, ("end", None)
            else:
                reply = ("ok", result)
        except BaseException:  # noqa: BLE001 - reported to the caller
            reply = _error()
        _write(stdout, reply)


if __name__ == "__main__":
    _main()
    sys.stderr.flush()
    os._exit(0)  # nothing to clean up: tearing down the caches took ~0.5 s per worker
