"""A throw-away PostgreSQL server for the tests that need a gradebook server.

The server is Debian's own ``postgres`` (the ``postgresql`` package), started by the test
and stopped by it. It listens on a unix socket in a private temporary folder and on no TCP
port at all, so nothing outside this machine (and no other test run) can reach it, and it
needs no password. PostgreSQL refuses to run as root: run as root (as CI is), the server
runs as the ``postgres`` user that Debian's package creates, in a folder owned by it.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = "install PostgreSQL's server (Debian/Ubuntu: `sudo apt-get install postgresql`)"
SERVER_USER = "postgres"  # the account Debian's package makes; only used when the tests run as root
PORT = 5432  # names the socket file only: the server listens on no TCP port


def postgres_bindir() -> Path | None:
    """The folder holding ``postgres``, ``initdb`` and ``pg_ctl``: on the PATH, else Debian's newest."""
    on_path = shutil.which("postgres")
    if on_path and shutil.which("initdb"):
        return Path(on_path).parent
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"),
                    key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0)
    return Path(debian[-1]).parent if debian else None


def why_no_postgres() -> str | None:
    """Why a PostgreSQL server cannot be started here, with what to do about it; None when it can."""
    if postgres_bindir() is None:
        return f"no PostgreSQL server binary (`postgres`) on the PATH or in /usr/lib/postgresql/*/bin: {INSTALL_HINT}"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "the PostgreSQL driver psycopg is missing: `pip install -r requirements.txt`"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return (f"running as root, and PostgreSQL refuses to run as root, but there is no "
                    f"`{SERVER_USER}` user to run it as: {INSTALL_HINT} (the package creates the user)")
        if shutil.which("runuser") is None:
            return "running as root without `runuser` (util-linux) to start PostgreSQL as another user"
    return None


@dataclass(frozen=True)
class PostgresServer:
    """A running server: where its socket is, and how to make databases on it."""

    socket_dir: Path
    user: str

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of ``database``, as nbgrader's ``CourseDirectory.db_url`` takes it."""
        return f"postgresql+psycopg://{self.user}@/{database}?host={self.socket_dir}&port={PORT}"

    def connect(self, database: str = "postgres"):
        """A psycopg connection (autocommit) to ``database``."""
        import psycopg

        return psycopg.connect(host=str(self.socket_dir), port=PORT, user=self.user, dbname=database,
                               autocommit=True)

    def create_database(self, name: str) -> str:
        """A new, empty database; returns its SQLAlchemy URL."""
        from psycopg import sql

        with self.connect() as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)


def as_server_user(command: list[str]) -> list[str]:
    """``command`` as the user the server runs as: the ``postgres`` user when we are root, else ourselves."""
    if os.geteuid() == 0:
        return ["runuser", "-u", SERVER_USER, "--", *command]
    return command


@contextmanager
def running_postgres(startup_s: float = 60) -> Iterator[PostgresServer]:
    """Initialise and start a server in a new temporary folder; stop it and remove the folder afterwards.

    The folder is made with ``tempfile`` rather than pytest's ``tmp_path``: pytest's folders are
    private to the user running the tests, and the server's user must own its data folder.
    """
    if reason := why_no_postgres():
        raise RuntimeError(reason)
    bindir = postgres_bindir()
    base = Path(tempfile.mkdtemp(prefix="dlcv-postgres-"))
    data, log = base / "data", base / "server.log"
    database_user = pwd.getpwuid(os.geteuid()).pw_name  # a superuser named as we are: no password
    started = False
    try:
        if os.geteuid() == 0:
            shutil.chown(base, SERVER_USER, SERVER_USER)
        run_checked(as_server_user([str(bindir / "initdb"), "--pgdata", str(data), "--username", database_user,
                                    "--auth", "trust", "--no-sync", "--encoding", "UTF8"]), "initdb")
        options = (f"-k {base} -p {PORT} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
                   "-c full_page_writes=off")
        started = True  # from here on a half-started server must be stopped too
        run_checked(as_server_user([str(bindir / "pg_ctl"), "start", "--wait", f"--timeout={int(startup_s)}",
                                    "--pgdata", str(data), "--log", str(log), "--options", options]),
                    "pg_ctl start", log)
        yield PostgresServer(base, database_user)
    finally:
        if started:
            stop(bindir, data)
        shutil.rmtree(base, ignore_errors=True)


def stop(bindir: Path, data: Path) -> None:
    """Stop the server at once; if pg_ctl cannot, kill its postmaster by the pid it recorded."""
    command = [str(bindir / "pg_ctl"), "stop", "--pgdata", str(data), "--mode", "immediate", "--wait"]
    result = subprocess.run(as_server_user(command), capture_output=True, text=True, timeout=60)
    pid_file = data / "postmaster.pid"
    if result.returncode != 0 and pid_file.is_file():
        try:
            os.kill(int(pid_file.read_text().split()[0]), 9)
        except (ValueError, ProcessLookupError):
            pass


def run_checked(command: list[str], what: str, log: Path | None = None) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        server_log = log.read_text()[-3000:] if log is not None and log.is_file() else ""
        raise RuntimeError(f"{what} failed ({result.returncode}):\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
                           f"\n{server_log}")
