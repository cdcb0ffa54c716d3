"""A throwaway PostgreSQL server for the tests: Debian's binaries, a temporary folder.

`start` runs ``initdb`` and ``pg_ctl`` from ``/usr/lib/postgresql/<version>/bin`` (the newest
installed; Debian's ``postgresql`` package) in a folder of its own, listening on a unix socket
in that folder and on a free localhost port, with trust authentication and without fsync
(nothing here must survive a crash of the machine). Both programs refuse to run as root: as
root they run as the ``postgres`` user (``runuser``), in a folder that user owns. Each test
gets a database of its own (`Server.create`), made from ``template0`` and dropped after it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

BINARIES = "/usr/lib/postgresql/*/bin"


def binaries() -> Path | None:
    """The folder of the newest installed PostgreSQL's ``initdb`` and ``pg_ctl``, or None."""
    found = sorted(Path("/").glob(BINARIES.lstrip("/")),
                   key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    found = [p for p in found if (p / "initdb").is_file() and (p / "pg_ctl").is_file()]
    return found[-1] if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running throwaway server; `stop` ends it and removes its folder."""

    bin: Path
    folder: Path
    port: int
    user: str | None
    """The user the server runs as (``postgres`` when the tests run as root), else None."""

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        return subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=120,
                              check=False)

    def url(self, database: str = "postgres") -> str:
        """A URL of ``database`` over TCP (localhost), as a site would give it."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        """Run one statement on the ``postgres`` database (CREATE / DROP DATABASE)."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as db:
            db.execute(sql)

    def create(self) -> str:
        """A fresh, empty database of its own; its URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.admin(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'")
        return self.url(name)

    def drop(self, url: str) -> None:
        """Drop the database of ``url`` (its connections are ended first)."""
        name = url.rsplit("/", 1)[-1]
        self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        """Stop the server at once and remove its folder."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate",
                  "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


def start(*, durable: bool = False) -> Server:
    """Initialise and start a server; raises RuntimeError (with its log) when it fails.

    ``durable`` keeps fsync and synchronous commits on, as a site's server runs (the
    benchmarks compare it with SQLite, which syncs every commit)."""
    bin_dir = binaries()
    if bin_dir is None:
        raise FileNotFoundError(BINARIES)
    folder = Path(tempfile.mkdtemp(prefix="qmsforms-pg-"))
    user = "postgres" if os.geteuid() == 0 else None
    if user:
        shutil.chown(folder, user)
    server = Server(bin_dir, folder, _free_port(), user)
    data = folder / "data"
    made = server._run(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A",
                       "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
    if made.returncode:
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {made.stdout}{made.stderr}")
    options = (f"-k {folder} -p {server.port} -c listen_addresses=127.0.0.1 "
               "-c max_connections=200")
    if not durable:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    started = server._run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l",
                          str(folder / "server.log"), "-o", options, "-w", "-t", "60", "start")
    if started.returncode:
        log = ""
        with contextlib.suppress(OSError):
            log = (folder / "server.log").read_text(errors="replace")
        server.stop()
        raise RuntimeError(f"pg_ctl start failed: {started.stdout}{started.stderr}\n{log}")
    return server
