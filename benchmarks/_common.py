"""What the benchmark scripts share: the machine line, peak memory, waiting for a quiet machine, the
throwaway PostgreSQL cluster, latency percentiles and a uvicorn server on loopback.

Imported as ``benchmarks._common`` (each script puts the repository root on ``sys.path`` first).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import os
import platform
import pstats
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULT_PREFIX = "RESULT "  # the line a child process prints its outcome on, as JSON
BACKENDS = {"sqlite": ["SQLite"], "postgresql": ["PostgreSQL"], "both": ["SQLite", "PostgreSQL"]}  # --db


def machine(*extra: str) -> str:
    """CPU model, cores, memory, Python and SQLite versions (and whatever else the caller adds)."""
    cpu, memory = "unknown CPU", 0.0
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
        kib = next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))
        memory = int(kib) / 1024 / 1024
    except (OSError, StopIteration):
        pass
    parts = [f"{platform.machine()} {cpu}", f"{os.cpu_count()} cores", f"{memory:.0f} GiB",
             f"Python {platform.python_version()}", f"SQLite {sqlite3.sqlite_version}", *extra]
    return ", ".join(parts)


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: a child started by fork+exec inherits
    the parent's ru_maxrss (Linux keeps it across exec), which would hide the child's own figure."""
    try:
        line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def wait_for_quiet(limit: float, seconds: int) -> float:
    """Wait (up to ``seconds``) until the 1-minute load average is below ``limit``; return it."""
    deadline = time.monotonic() + seconds
    load = os.getloadavg()[0]
    if load >= limit:
        print(f"  waiting for a quiet machine (1-min load average {load:.1f} >= {limit}) …", flush=True)
    while load >= limit and time.monotonic() < deadline:
        time.sleep(10)
        load = os.getloadavg()[0]
    if load >= limit:
        print(f"  WARNING: machine still busy (load average {load:.1f}): figures are disturbed", flush=True)
    return load


def phase_timer(phases: dict[str, float]) -> Callable[[str, Any], Any]:
    """``timed(name, function)``: ``function`` wrapped to add its run time to ``phases[name]`` (to time an
    application's steps from outside, by replacing them in their module)."""
    def timed(name: str, function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                phases[name] = phases.get(name, 0.0) + time.perf_counter() - started
        return wrapper
    return timed


def hotspots(profiler: cProfile.Profile | None, own: int = 25, cumulative: int = 30) -> str:
    """A profile's top functions by own time, then by cumulative time ("" without a profiler)."""
    if profiler is None:
        return ""
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(own)
    stats.sort_stats("cumulative").print_stats(cumulative)
    return out.getvalue()


def run_child(script: str, kind: str, url: str, work: Path, *extra: str) -> dict[str, Any]:
    """Run one measured part (``script --child kind``) in a fresh interpreter: its own time and peak memory,
    no generator heap. The child prints its outcome with ``print_result``."""
    command = [sys.executable, str(Path(script).resolve()), "--child", kind, "--url", url, "--work", str(work), *extra]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{result.stdout[-4000:]}\n{result.stderr[-6000:]}")
    line = next(line for line in result.stdout.splitlines()[::-1] if line.startswith(RESULT_PREFIX))
    return dict(json.loads(line.removeprefix(RESULT_PREFIX)))


def print_result(outcome: dict[str, Any]) -> None:
    print(RESULT_PREFIX + json.dumps(outcome, ensure_ascii=False), flush=True)


def pg_cluster(server_options: str) -> Any:
    """The test suite's throwaway cluster (``initdb --locale=C.UTF-8``, fsync off) with these settings."""
    from tests.support import pg

    return pg.PgCluster(server_options=server_options).start()


@contextmanager
def bench_database(backend: str, work: Path, sqlite_file: Path | None, pg_options: str) -> Iterator[str]:
    """The URL of the database a run measures: a SQLite file (``sqlite_file``, else one in ``work``), or a new
    database in a throwaway PostgreSQL cluster. Afterwards the app's engines are disposed and the cluster stopped."""
    from xinyong.db import dispose_engines

    cluster = None
    try:
        if backend == "PostgreSQL":
            from tests.support import pg

            cluster = pg_cluster(pg_options)
            url = pg.create_database(cluster.admin_url, "bench")
            print(f"  cluster in {cluster.base_dir} (initdb --locale=C.UTF-8)", flush=True)
        else:
            path = (sqlite_file or work / "bench.db").resolve()
            path.parent.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{path}"
        yield url
    finally:
        dispose_engines()
        if cluster is not None:
            cluster.stop()


def quiet_arguments(parser: argparse.ArgumentParser, wait: int) -> None:
    parser.add_argument("--quiet-load", type=float, default=1.0,
                        help="before each measured part, wait until the 1-minute load average is below this")
    parser.add_argument("--quiet-wait", type=int, default=wait, help="wait at most this many seconds for it")


def child_arguments(parser: argparse.ArgumentParser, kinds: list[str]) -> None:
    """``--profile``, and the hidden arguments ``run_child`` passes to a child."""
    parser.add_argument("--profile", action="store_true", help="also run ours under cProfile and print the hotspots")
    parser.add_argument("--child", choices=kinds, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank percentile (p in 0..100) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A uvicorn process on loopback, one worker, access log off (same settings for app and baseline)."""

    target: list[str]
    env: dict[str, str]
    cwd: Path
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        command = [sys.executable, "-m", "uvicorn", *self.target, "--host", "127.0.0.1", "--port", str(self.port),
                   "--workers", "1", "--log-level", "warning", "--no-access-log"]
        handle = self.log.open("ab")
        self.process = subprocess.Popen(command, env={**os.environ, **self.env}, cwd=self.cwd, stdout=handle,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited ({self.process.returncode}):\n{self.log.read_text()[-3000:]}")
            try:  # uvicorn listens once the app has started (a page could be slow on a big database)
                socket.create_connection(("127.0.0.1", self.port), timeout=2).close()
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"server did not start:\n{self.log.read_text()[-3000:]}")

    def __exit__(self, *_: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def app_server(database_url: str, data_dir: Path, work: Path, **env: str) -> Server:
    """The real app (``xinyong.app:create_app``) on the database, with the benchmarks' secrets."""
    settings = {"XINYONG_DATABASE_URL": database_url, "XINYONG_DATA_DIR": str(data_dir),
                "XINYONG_SECRET_KEY": "bench", "XINYONG_PERSON_ID_KEY": "bench", **env}
    return Server(["xinyong.app:create_app", "--factory"], settings, work, work / "app.log")
