"""The real ``kehu`` in a real terminal: `python tests/bench/bench_terminal.py DB_URL`.

Pilot (bench_workbench.py) leaves out the terminal: the process start, the
imports, the escape codes written to the tty. This runs the installed ``kehu``
in a pseudo-terminal (80x24 unless ``--size``), reads what it writes into a
terminal emulator (pyte: ``pip install pyte``; a benchmark-only tool) and
times what a person sees:

* start → the first rows of the table on the screen, and → the count line;
* keystroke → screen: ``/`` then the query typed one character at a time, each
  timed from the write to the pty until the screen shows that character in the
  search box and the table's first row has changed (or the screen is quiet for
  ``--settle`` ms when the rows stay the same); median and p95 over the words.

Goals (issue 20): start ≤ 1 s, keystroke p95 ≤ 25 ms. Print the load average
with the figures: the machines are shared.
"""
from __future__ import annotations

import argparse
import os
import pty
import select
import shutil
import statistics
import subprocess
import sys
import time

WORDS = ["zs", "zhang", "1380", "gz", "wang", "li"]


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


class Terminal:
    """``kehu`` on a pty, with a pyte screen fed from its output."""

    def __init__(self, argv: list[str], cols: int, rows: int, env: dict[str, str]):
        import pyte

        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the real kehu
            os.environ.update(env)
            os.execvp(argv[0], argv)
        import fcntl
        import struct
        import termios

        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def pump(self, timeout: float) -> bool:
        """Read what is there (waiting up to ``timeout`` s); True if anything came."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self.fd, 1 << 16)
        except OSError:
            return False
        self.stream.feed(data)
        return True

    def lines(self) -> list[str]:
        return list(self.screen.display)

    def wait(self, predicate, timeout: float = 60.0) -> float:
        start = time.perf_counter()
        while not predicate(self.lines()):
            if time.perf_counter() - start > timeout:
                raise TimeoutError("the screen did not show it in time:\n" + "\n".join(self.lines()))
            self.pump(0.002)
        return time.perf_counter() - start

    def settle(self, quiet: float) -> None:
        while self.pump(quiet):
            pass

    def send(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def close(self) -> None:
        try:
            os.kill(self.pid, 9)
            os.waitpid(self.pid, 0)
        except OSError:
            pass


def rows_of(lines: list[str]) -> list[str]:
    """The table's rows: the lines between the header and the summary."""
    return [line for line in lines[4:-4] if line.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", help="database URL, e.g. sqlite:////tmp/bench.db")
    parser.add_argument("--size", default="80x24", help="terminal size, COLSxROWS")
    parser.add_argument("--starts", type=int, default=3, help="how many starts to time")
    parser.add_argument("--settle", type=float, default=150, help="ms of quiet that ends a wait")
    args = parser.parse_args()
    cols, rows = (int(n) for n in args.size.lower().split("x"))
    exe = shutil.which("kehu")
    if exe is None:
        print("kehu is not installed (pip install -e .)", file=sys.stderr)
        return 2
    env = {"TERM": "xterm-256color", "KEHU_LANG": "en", "COLUMNS": str(cols), "LINES": str(rows)}
    argv = [exe, "--db", args.db, "--lang", "en"]
    count = subprocess.run([exe, "--db", args.db, "query", "", "--limit", "0"], capture_output=True,
                           text=True).stdout.strip().splitlines()[-1:]
    print(f"kehu in a {cols}x{rows} pty over {args.db} ({' '.join(count)}); "
          f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")

    firsts, counts = [], []
    for _ in range(args.starts):
        term = Terminal(argv, cols, rows, env)
        try:
            firsts.append(term.wait(lambda lines: len(rows_of(lines)) >= 3))
            counts.append(firsts[-1] + term.wait(lambda lines: any(" customers" in line
                                                                    for line in lines[-4:])))
        finally:
            term.close()
    print(f"start → first rows on screen: median {statistics.median(firsts) * 1000:7.0f} ms "
          f"(goal ≤ 1000 ms; {len(firsts)} starts)")
    print(f"start → count line:           median {statistics.median(counts) * 1000:7.0f} ms")

    term = Terminal(argv, cols, rows, env)
    times: list[float] = []
    try:
        term.wait(lambda lines: len(rows_of(lines)) >= 3)
        term.settle(args.settle / 1000)
        for word in WORDS:
            term.send("/")        # the search box …
            term.settle(args.settle / 1000)
            term.send("\x15")     # … emptied with Ctrl+U (it keeps the last search)
            term.settle(args.settle / 1000)
            typed = ""
            for ch in word:
                typed += ch
                before = rows_of(term.lines())[:1]
                start = time.perf_counter()
                term.send(ch)
                term.wait(lambda lines: any(typed in line for line in lines[:3]))
                # then until the first row changes, or nothing more comes for --settle ms
                while rows_of(term.lines())[:1] == before:
                    if not term.pump(args.settle / 1000):
                        break
                else:
                    times.append(time.perf_counter() - start)
                    continue
                times.append(time.perf_counter() - start - args.settle / 1000)
            term.send("\r")      # Enter: back to the table, as a person does
            term.settle(args.settle / 1000)
    finally:
        term.close()
    print(f"keystroke → screen ({len(times)} keys): median "
          f"{statistics.median(times) * 1000:6.1f} ms, p95 {p95(times) * 1000:6.1f} ms "
          f"(goal p95 ≤ 25 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
