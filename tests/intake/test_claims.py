"""Claim locks (`qmsforms.intake.claims`): one holder per claim, named to ``status``, freed when
the holder dies; on PostgreSQL seen by every machine using the ledger.

The "machines" are workspaces of their own (their own ``.qmsforms``, with its local lock
folder) sharing one inbox and outbox through ``[paths]``, their processes told apart by
``QMSFORMS_HOST``, as two plants' PCs watching one share would be.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from qmsforms.intake import WORK_DIR, Intake, LedgerError, open_ledger
from qmsforms.intake.claims import FileClaimLocks, claim_locks
from qmsforms.intake.outcome import Blocked
from qmsforms.site import HOST_ENV
from qmsforms.workspace import Workspace, init_workspace

from ..conftest import REPO
from .test_watch import WatchProcess, wait_for

HOLD = """
import sys
from pathlib import Path
from qmsforms.intake.claims import claim_locks
from qmsforms.intake.ledger import open_ledger
from qmsforms.workspace import Workspace

ws = Workspace(sys.argv[1])
ledger = open_ledger(ws, write=True)
lock = claim_locks(ledger, ws.state_dir / "locks").acquire(sys.argv[2])
print("held" if lock else "refused", flush=True)
sys.stdin.readline()
"""


def env(host: str) -> dict[str, str]:
    """The environment of a process on ``host`` (the ledger's URL, if any, comes along)."""
    found = {k: v for k, v in os.environ.items() if k != "QMSFORMS_ROOT"}
    found[HOST_ENV] = host
    found["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), found.get("PYTHONPATH")]))
    return found


@pytest.fixture
def holder(ws: Workspace) -> Iterator[Any]:
    """``holder(claim_id, host)``: a process that holds a claim's lock until it is killed."""
    started: list[subprocess.Popen[str]] = []

    def start(claim_id: str, host: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen([sys.executable, "-c", HOLD, str(ws.root), claim_id],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                env=env(host), cwd=REPO)
        started.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        return proc

    yield start
    for proc in started:
        proc.kill()
        proc.wait(timeout=60)


CLAIM = "20261201T080000Z-0123456789ab"


def test_a_claim_is_held_once_and_names_its_holder(
        ws: Workspace, ledger_url: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HOST_ENV, "plant-a")
    with open_ledger(ws, write=True) as one, open_ledger(ws, write=True) as two:
        mine = claim_locks(one, ws.state_dir / "locks")
        other = claim_locks(two, ws.state_dir / "locks")
        assert isinstance(mine, FileClaimLocks) == (ledger_url is None)
        try:
            held = mine.acquire(CLAIM)
            assert held is not None
            assert mine.acquire(CLAIM) is None and other.acquire(CLAIM) is None
            found = other.holder(CLAIM)
            assert found is not None
            assert (found["host"], found["pid"]) == ("plant-a", os.getpid())
            assert found["since"][:2] == "20" and found["since"].endswith("Z")
            held.release()
            assert other.holder(CLAIM) is None
            again = other.acquire(CLAIM)
            assert again is not None and mine.acquire(CLAIM) is None
            again.release()
        finally:
            mine.close()
            other.close()


def test_a_holder_that_dies_frees_its_claim(ws: Workspace, ledger_url: str | None,
                                            holder: Any) -> None:
    proc = holder(CLAIM, "plant-b")
    with open_ledger(ws, write=True) as ledger:
        locks = claim_locks(ledger, ws.state_dir / "locks")
        try:
            found = locks.holder(CLAIM)
            assert found is not None and (found["host"], found["pid"]) == ("plant-b", proc.pid)
            assert locks.acquire(CLAIM) is None
            proc.kill()
            proc.wait(timeout=60)
            wait_for(lambda: locks.holder(CLAIM) is None, 120, "the dead holder's lock to go")
            held = locks.acquire(CLAIM)
            assert held is not None
            held.release()
        finally:
            locks.close()


# -- PostgreSQL: several machines on one inbox -------------------------------------------------

def admin(url: str, sql: str, args: Any = ()) -> list[Any]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        cursor = db.execute(sql, args)
        return cursor.fetchall() if cursor.description else []


@pytest.mark.postgres
def test_a_lost_lock_connection_claims_nothing(ws: Workspace, pg_url: str, make_filled: Any,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QMSFORMS_LEDGER", pg_url)
    first = ws.inbox / "first.xlsx"
    shutil.copyfile(make_filled("shipping-list"), first)
    with Intake(ws, settle=0.05) as intake:
        assert intake.take(first) is not None  # its lock connection is open now
        later = ws.inbox / "later.xlsx"
        shutil.copyfile(make_filled("complaint"), later)
        name = pg_url.rsplit("/", 1)[-1]
        server = pg_url.rsplit("/", 1)[0] + "/postgres"
        admin(server, f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        ledger_backend = cast(Any, intake.ledger).db.info.backend_pid
        admin(server, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s"
              " AND pid <> %s", (name, ledger_backend))  # the claim lock session
        with pytest.raises(Blocked) as blocked:
            intake.take(later)
        assert isinstance(blocked.value.__cause__, LedgerError)
        assert blocked.value.__cause__.code == "LEDGER_UNAVAILABLE"
        assert later.exists() and not any((ws.inbox / WORK_DIR).iterdir())
        admin(server, f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
        taken = intake.take(later)  # a new lock connection: claimed and decided now
        assert taken is not None and taken.outcome == "record" and not later.exists()


def second_machine(ws: Workspace, root: Path) -> Workspace:
    """A workspace of its own (its own ``.qmsforms``) on ``ws``'s inbox and outbox."""
    other = init_workspace(root)
    with (other.root / "qmsforms.toml").open("a", encoding="utf-8") as fh:
        fh.write(f"\n[paths]\ninbox = {json.dumps(str(ws.inbox))}\n"
                 f"outbox = {json.dumps(str(ws.outbox))}\n")
    return Workspace(other.root)


def cli(ws: Workspace, host: str, *args: str) -> tuple[int, Any]:
    """Run ``qmsforms --root ws ARGS --json`` as a process on ``host``: exit code, JSON."""
    done = subprocess.run([sys.executable, "-m", "qmsforms", "--root", str(ws.root), *args,
                           "--json"], capture_output=True, text=True, env=env(host), cwd=REPO,
                          timeout=600, check=False)
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.postgres
def test_another_machine_leaves_a_live_claim_alone_and_recovers_a_dead_ones(
        ws: Workspace, pg_url: str, make_filled: Any, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QMSFORMS_LEDGER", pg_url)
    with (ws.root / "qmsforms.toml").open("a", encoding="utf-8") as fh:
        fh.write("\n[limits]\nread_timeout_seconds = 3600\n")  # a stopped read is not ended
    other = second_machine(ws, tmp_path / "plant-b")
    logs = tmp_path / "logs"
    logs.mkdir()
    monkeypatch.setenv(HOST_ENV, "plant-a")
    watcher = WatchProcess(ws, [], logs, "plant-a")
    readers: list[int] = []
    try:
        watcher.wait_ready()
        shutil.copyfile(make_filled("shipping-list"), ws.inbox / "warm-up.xlsx")
        wait_for(lambda: watcher.marks()["REC"] == 1, 120, "the first file", (watcher,))
        readers = children(watcher.pid)
        assert readers  # the reader child, idle between files
        for pid in readers:
            os.kill(pid, signal.SIGSTOP)
        held = ws.inbox / "held.xlsx"
        shutil.copyfile(make_filled("complaint"), held)
        work = ws.inbox / WORK_DIR
        wait_for(lambda: not held.exists() and any(work.glob("*/held.xlsx")), 120,
                 "plant-a to claim the file", (watcher,))
        (claimed,) = [p.parent for p in work.glob("*/held.xlsx")]

        code, result = cli(other, "plant-b", "process")  # recovery on the other machine
        assert code == 0 and result["outcomes"] == [] and result["blocked"] is None
        assert (claimed / "held.xlsx").exists()
        code, status = cli(other, "plant-b", "status")
        (claim,) = status["claims"]
        assert (claim["name"], claim["state"]) == (f"{WORK_DIR}/{claimed.name}", "in_progress")
        assert (claim["host"], claim["pid"]) == ("plant-a", watcher.pid)

        watcher.kill()  # plant-a's PC dies, its reader with it
        for pid in readers:
            os.kill(pid, signal.SIGKILL)
        readers = []
        wait_for(lambda: cli(other, "plant-b", "status")[1]["claims"][0]["state"]
                 != "in_progress", 120, "the dead holder's claim lock to go")
        code, result = cli(other, "plant-b", "process")
        assert code == 0 and [(o["name"], o["outcome"]) for o in result["outcomes"]] == [
            ("held.xlsx", "record")]
    finally:
        for pid in readers:
            os.kill(pid, signal.SIGKILL)
        if watcher.proc.poll() is None:
            watcher.kill()
    assert not any(work.iterdir()) and not held.exists()
    with open_ledger(ws) as ledger:
        files = ledger.files()
        assert sorted(f.name for f in files) == ["held.xlsx", "warm-up.xlsx"]
        assert [f.outcome for f in files] == ["record", "record"]
        assert ledger.count("records") == 2
        assert len(ledger.events("recovered")) == 1
