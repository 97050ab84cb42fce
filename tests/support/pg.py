"""A throwaway PostgreSQL cluster for the test suite: initdb, pg_ctl, a temp dir, gone afterwards.

PostgreSQL refuses to run as root; when the tests run as root (CI containers) the server
runs as the ``postgres`` system user through ``runuser``. The cluster listens on 127.0.0.1
and a unix socket inside its own directory only, trusts every local connection and skips
fsync: it holds nothing worth keeping.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, create_engine, make_url
from sqlalchemy.pool import NullPool

SERVER_USER = "postgres"
DIR_PREFIX = "xinyong-pg-"
OWNER_FILE = "owner.pid"  # the pid of the pytest process the cluster belongs to
INSTALL_HINT = (
    "找不到 PostgreSQL 的 initdb：测试需要本机安装 PostgreSQL 15 "
    "(Debian/Ubuntu: apt-get install postgresql-15 或 postgresql)。"
)
SERVER_OPTIONS = ("-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                  "-c max_connections=200 -c shared_buffers=32MB")


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine, or the cluster would not start."""


def find_bin_dir() -> Path:
    """The directory holding initdb and pg_ctl: PATH first, then Debian's versioned dirs."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    for initdb in reversed(candidates):
        if Path(initdb).with_name("pg_ctl").exists():
            return Path(initdb).parent
    raise PostgresUnavailable(INSTALL_HINT)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ensure_server_user() -> None:
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", SERVER_USER], check=True, capture_output=True)


def _run_as_prefix() -> list[str]:
    """As root, run the server binaries as ``postgres``; otherwise as ourselves."""
    if os.geteuid() != 0:
        return []
    _ensure_server_user()
    return ["runuser", "-u", SERVER_USER, "--"]


@dataclass
class PgCluster:
    """One cluster in a temp dir; ``start()`` then ``stop()`` (which also removes the dir)."""

    bin_dir: Path = field(default_factory=find_bin_dir)
    base_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix=DIR_PREFIX)))
    port: int = 0
    running: bool = False
    server_options: str = ""  # extra ``-c name=value`` settings (benchmarks give it memory)

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "server.log"

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://{SERVER_USER}@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [*_run_as_prefix(), *args]
        result = subprocess.run(command, cwd=self.base_dir, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            output = f"{result.stdout}{result.stderr}{self._log_tail()}"
            raise PostgresUnavailable(f"{' '.join(args[:2])} 失败：{output}")
        return result

    def _log_tail(self) -> str:
        return self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""

    def _prepare_dir(self) -> None:
        if os.geteuid() == 0:
            _run_as_prefix()  # creates the user if missing
            entry = pwd.getpwnam(SERVER_USER)
            os.chown(self.base_dir, entry.pw_uid, entry.pw_gid)

    def _initdb(self) -> None:
        self._run(str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "--auth=trust",
                  f"--username={SERVER_USER}", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
                  "--no-instructions")

    def _pg_ctl_start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.base_dir} {SERVER_OPTIONS} {self.server_options}"
        self._run(str(self.bin_dir / "pg_ctl"), "start", "-D", str(self.data_dir), "-l", str(self.log_file),
                  "-w", "-t", "60", "-o", options)

    def start(self, attempts: int = 3) -> PgCluster:
        """initdb and start on a free port (retrying if another process takes the port first)."""
        reap_orphans()
        (self.base_dir / OWNER_FILE).write_text(str(os.getpid()))
        self._prepare_dir()
        self._initdb()
        for attempt in range(attempts):
            self.port = free_port()
            try:
                self._pg_ctl_start()
            except PostgresUnavailable:
                if attempt == attempts - 1:
                    self.stop()
                    raise
                continue
            self.running = True
            return self
        raise AssertionError("unreachable")

    def stop(self) -> None:
        """Stop the server at once and remove every file of the cluster."""
        if self.running:
            subprocess.run([*_run_as_prefix(), str(self.bin_dir / "pg_ctl"), "stop", "-D", str(self.data_dir),
                            "-m", "immediate", "-w"], cwd=self.base_dir, capture_output=True, check=False)
            self.running = False
        shutil.rmtree(self.base_dir, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_orphans() -> None:
    """Stop and remove clusters left behind by test runs that were killed before cleaning up."""
    for owner in Path(tempfile.gettempdir()).glob(f"{DIR_PREFIX}*/{OWNER_FILE}"):
        try:
            pid = int(owner.read_text())
        except (OSError, ValueError):
            continue
        if not _alive(pid):
            PgCluster(base_dir=owner.parent, running=True).stop()


def database_url(admin_url: str, name: str) -> str:
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _admin_engine(admin_url: str) -> Engine:
    return create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def create_database(admin_url: str, name: str) -> str:
    """A new empty database ``name`` (replacing any left over), and its URL."""
    engine = _admin_engine(admin_url)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        engine.dispose()
    return database_url(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    engine = _admin_engine(admin_url)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        engine.dispose()
