"""Process-level tests of the watched inbox (issue 4, SPEC §5).

Watchers run as real subprocesses (``python -m qmsforms watch``), once with native file events
and once with the polling observer, because a network share delivers no native events. Every
test asserts on the ledger, the outbox files and the issue codes, never on message text. Waits
are polling loops with generous timeouts that end as soon as the condition holds; no test
asserts on speed.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from qmsforms.blanks import issue_blank
from qmsforms.cli import cli
from qmsforms.excel.fill import fill_workbook
from qmsforms.intake import WORK_DIR, Ledger, candidates, open_ledger
from qmsforms.workspace import Workspace, init_workspace

from .. import hostile
from ..conftest import REPO, VALID

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and /proc")

MODES = {"native": [], "poll": ["--poll", "0.2"]}
BATCH_TIMEOUT = 180.0  # seconds; a guard against hangs, never a performance claim
SEED = 20261121


# -- helpers ------------------------------------------------------------------------------------

def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def wait_for(condition: Callable[[], bool], timeout: float, what: str,
             procs: tuple[WatchProcess, ...] = (), interval: float = 0.1) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` or if a watcher died."""
    deadline = time.monotonic() + timeout
    while not condition():
        for proc in procs:
            if proc.proc.poll() is not None:
                pytest.fail(f"watcher exited ({proc.proc.returncode}) while waiting for {what}:"
                            f"\n{proc.stderr()}")
        if time.monotonic() > deadline:
            logs = "\n".join(p.stderr() for p in procs)
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}\n{logs}")
        time.sleep(interval)


class WatchProcess:
    """A ``qmsforms watch`` subprocess with its output captured in files."""

    def __init__(self, ws: Workspace, mode: list[str], logs: Path, name: str) -> None:
        self.out_path = logs / f"{name}.out"
        self.err_path = logs / f"{name}.err"
        env = {k: v for k, v in os.environ.items() if k != "QMSFORMS_ROOT"}
        env["PYTHONUNBUFFERED"] = "1"
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "qmsforms", "--root", str(ws.root), "watch",
                 "--settle", "0.1", *mode],
                stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=REPO, env=env)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stdout(self) -> str:
        return self.out_path.read_text(encoding="utf-8", errors="replace")

    def stderr(self) -> str:
        return self.err_path.read_text(encoding="utf-8", errors="replace")

    def marks(self) -> Counter[str]:
        """How many REC / REJ / DUP lines the watcher printed (after the date and time)."""
        return Counter(line.split(" ", 3)[2] for line in self.stdout().splitlines() if line)

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until the watcher announced itself on stderr (its observer starts right after)."""
        wait_for(lambda: self.err_path.stat().st_size > 0, timeout, "the watcher to start",
                 (self,))
        time.sleep(0.3)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def terminate(self, timeout: float = 60.0) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def peak_rss_mb(self) -> float:
        """The process's peak resident set size (VmHWM), in MiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmHWM in /proc status")


@pytest.fixture(params=sorted(MODES))
def mode(request: pytest.FixtureRequest) -> list[str]:
    """The watcher's observer: native file events, or polling every 0.2 s."""
    return MODES[request.param]


@pytest.fixture
def spawn(ws: Workspace, mode: list[str], tmp_path: Path) -> Iterator[Callable[[], WatchProcess]]:
    """Start watcher subprocesses on ``ws``; any still running at the end are killed."""
    started: list[WatchProcess] = []
    logs = tmp_path / "logs"
    logs.mkdir()

    def start() -> WatchProcess:
        watcher = WatchProcess(ws, mode, logs, f"watcher-{len(started)}")
        started.append(watcher)
        return watcher

    yield start
    for watcher in started:
        if watcher.proc.poll() is None:
            watcher.kill()


@pytest.fixture
def ledger(ws: Workspace) -> Iterator[Ledger]:
    """The workspace's ledger (of whichever engine), read by the test while watchers write it."""
    with open_ledger(ws, write=True) as opened:
        yield opened


def work_folder(ws: Workspace) -> Path:
    return ws.inbox / WORK_DIR


def settled(ws: Workspace, ledger: Ledger, files: int) -> Callable[[], bool]:
    """All ``files`` decided, none left in the inbox, no claim left in the work folder."""

    def check() -> bool:
        work = work_folder(ws)
        return (ledger.count("files") >= files and not candidates(ws.inbox)
                and (not work.exists() or not any(work.iterdir())))

    return check


def progressed(ledger: Ledger, before: int) -> bool:
    return ledger.count("files") > before


def drop(source: Path, inbox: Path, name: str | None = None) -> Path:
    """Copy a file into the inbox the way a person does: under a temp name, then renamed."""
    target = inbox / (name or source.name)
    tmp = inbox / f"{target.name}.tmp"
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)
    return target


def record_jsons(ws: Workspace) -> list[Path]:
    return sorted((ws.outbox / "records").glob("*/*.json"))


def part_files(ws: Workspace) -> list[Path]:
    return sorted(ws.outbox.rglob(".~part-*"))


def archived(ws: Workspace, name: str) -> list[Path]:
    """Archive copies of the source ``name`` (records' archive, not duplicates)."""
    return [p for p in (ws.outbox / "archive").glob(f"*/*__{name}")
            if p.parent.name != "duplicates"]


def rejected_originals(ws: Workspace, name: str) -> list[Path]:
    stem, suffix = os.path.splitext(name)
    return [p for p in (ws.outbox / "rejected").glob(f"{stem}__*{suffix}")
            if not p.name.endswith((".annotated.xlsx", ".report.json", ".report.txt"))]


def fill(ws: Workspace, form_id: str, path: Path, values: dict[str, Any]) -> Path:
    """Issue a blank of ``form_id`` at ``path`` and fill it with ``values``."""
    issue_blank(ws, form_id, path)
    wb = load_workbook(path)
    fill_workbook(wb, ws.registry.get(form_id), values, "both")
    wb.save(path)
    return path


# -- a batch of distinct files -----------------------------------------------------------------

TOKEN = b"KEYXXXX"
REJECTION_CODES = {"bad": "NOT_AN_OFFICE_FILE", "cut": "CORRUPT_FILE", "few": "INCOMPLETE_SURVEY"}


def _variant(template: bytes, value: str) -> bytes:
    """The workbook ``template`` with its key ``TOKEN`` replaced by ``value`` (same length)."""
    new = value.encode("ascii")
    assert len(new) == len(TOKEN)
    hits = 0
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(template)) as src, zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            hits += data.count(TOKEN)
            dst.writestr(info, data.replace(TOKEN, new))
    assert hits, "the key token is not in the workbook"
    return buf.getvalue()


@pytest.fixture(scope="session")
def batch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str, str]]:
    """300 distinct files: name -> (path, sha256, expected outcome ``record``/``rejected``).

    Valid forms of four kinds, each with its own natural key (monitoring: customer + month,
    survey: customer + period, complaint: ticket number, shipping list: document number), and
    about one in seven invalid: random bytes, a truncated zip, or a survey with three answers
    (fewer than five is incomplete). One blank per kind is filled with openpyxl with a key
    token, and each copy replaces the token in the zip, so generating them is quick.
    """
    root = tmp_path_factory.mktemp("batch")
    space = init_workspace(root / "ws")
    kinds = {
        "satisfaction-monitoring": ("M", "customer"),
        "satisfaction-survey": ("S", "customer"),
        "complaint": ("C", "ticket_no"),
        "shipping-list": ("P", "doc_no"),
    }
    templates = {}
    for form_id, (_, key) in kinds.items():
        values = dict(VALID[form_id], **{key: TOKEN.decode()})
        templates[form_id] = fill(space, form_id, root / f"{form_id}.xlsx", values).read_bytes()
    few = dict(VALID["satisfaction-survey"], customer=TOKEN.decode())
    for question in ("appearance", "service_attitude"):
        del few[question]
    incomplete = fill(space, "satisfaction-survey", root / "few.xlsx", few).read_bytes()

    rng = random.Random(SEED)
    folder = root / "files"
    folder.mkdir()
    out: dict[str, tuple[Path, str, str]] = {}
    # the cheaper forms more often: the batch tests are about files, not about one form
    order = ["satisfaction-survey", "shipping-list", "satisfaction-monitoring",
             "satisfaction-survey", "complaint", "shipping-list"]
    for i in range(300):
        if i % 7 == 3:
            kind = (i // 7) % 3
            if kind == 0:
                name, data = f"bad-{i:03d}.xlsx", rng.randbytes(3000 + i)
            elif kind == 1:
                whole = _variant(templates["complaint"], f"B{i:06d}")
                name, data = f"cut-{i:03d}.xlsx", whole[: len(whole) // 2]
            else:
                name, data = f"few-{i:03d}.xlsx", _variant(incomplete, f"F{i:06d}")
            expected = "rejected"
        else:
            form_id = order[i % len(order)]
            prefix = kinds[form_id][0]
            name = f"{form_id}-{i:03d}.xlsx"
            data = _variant(templates[form_id], f"{prefix}{i:06d}")
            expected = "record"
        path = folder / name
        path.write_bytes(data)
        out[name] = (path, hashlib.sha256(data).hexdigest(), expected)
    return out


def assert_batch_outcome(ws: Workspace, ledger: Ledger,
                         files: dict[str, tuple[Path, str, str]]) -> None:
    """Every file is exactly one record or one rejection, and the outbox agrees."""
    rows = ledger.files()
    names = Counter(r.name for r in rows)
    assert {n: c for n, c in names.items() if c > 1} == {}, "a file was processed twice"
    assert set(names) == set(files)
    assert ledger.files("duplicate") == []
    decided = {r.name: r for r in rows}
    for name, (_, sha, expected) in files.items():
        row = decided[name]
        assert row.outcome == expected, (name, row.outcome, row.codes)
        assert row.sha256 == sha, name
        if expected == "rejected":
            assert row.codes == (REJECTION_CODES[name.split("-")[0]],), (name, row.codes)
            assert (ws.outbox / row.location).is_file()
    expected_records = sum(e == "record" for _, _, e in files.values())
    assert len(ledger.files("record")) == expected_records
    assert len(ledger.files("rejected")) == len(files) - expected_records

    ids = {r.record_id for r in ledger.records(latest_only=False)}
    jsons = record_jsons(ws)
    assert len(jsons) == ledger.count("records") == len(ids) == expected_records
    for path in jsons:
        record = json.loads(path.read_text(encoding="utf-8"))
        assert record["record_id"] in ids
        assert record["record_id"] == path.stem
        assert record["source"]["sha256"] == files[record["source"]["name"]][1]
        assert "supersedes" not in record  # every natural key is distinct
    assert part_files(ws) == []
    for name, (_, sha, expected) in files.items():
        copies = archived(ws, name) if expected == "record" else rejected_originals(ws, name)
        assert len(copies) == 1, (name, copies)
        assert sha256(copies[0]) == sha, name
    assert ledger.integrity() == "ok"


# -- 0. the entry point ----------------------------------------------------------------------

def test_python_dash_m_runs_the_cli() -> None:
    result = subprocess.run([sys.executable, "-m", "qmsforms", "--version"], cwd=REPO,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0
    assert "qmsforms" in result.stdout


# -- 1. a slow copy is taken once, after its last byte -----------------------------------------

def test_slow_copy_with_old_mtime_is_processed_once_after_the_last_byte(
        ws: Workspace, make_filled: Callable[..., Path], spawn: Callable[[], WatchProcess],
        ledger: Ledger, tmp_path: Path) -> None:
    source = make_filled("satisfaction-monitoring")
    with zipfile.ZipFile(source, "a") as zf:  # ~5 MB of incompressible bytes, still a form
        zf.writestr(zipfile.ZipInfo("customXml/pad.bin"), random.Random(SEED).randbytes(5 << 20),
                    compress_type=zipfile.ZIP_STORED)
    data = source.read_bytes()
    assert len(data) > 5 << 20
    watcher = spawn()
    watcher.wait_ready()

    target = ws.inbox / "monitoring-big.xlsx"
    chunk = 64 << 10
    pause = 3.0 / (len(data) / chunk)
    with target.open("wb") as fh:
        for start in range(0, len(data), chunk):
            fh.write(data[start:start + chunk])
            fh.flush()
            time.sleep(pause)
    year_ago = time.time() - 365 * 86400
    os.utime(target, (year_ago, year_ago))  # as `cp -p` leaves it

    wait_for(settled(ws, ledger, 1), BATCH_TIMEOUT, "the big file", (watcher,))
    time.sleep(0.3)  # a late second take would show up here
    rows = ledger.files()
    assert [(r.name, r.outcome) for r in rows] == [("monitoring-big.xlsx", "record")]
    assert rows[0].sha256 == hashlib.sha256(data).hexdigest()
    assert ledger.count("records") == 1
    copies = archived(ws, "monitoring-big.xlsx")
    assert len(copies) == 1 and copies[0].read_bytes() == data
    assert not (ws.outbox / "rejected").exists() or not any((ws.outbox / "rejected").iterdir())
    assert watcher.marks() == Counter({"REC": 1})
    assert watcher.terminate() == 0


# -- 2. editors' lock and temp files -------------------------------------------------------------

LOCK_AND_TEMP = ("~$form.xlsx", "A1B2C3D4", "B2C3D4E5.tmp", ".~lock.form.xlsx#")


def assert_only_form_taken(ws: Workspace, ledger: Ledger, sha: str) -> None:
    rows = ledger.files()
    assert [(r.name, r.outcome) for r in rows] == [("form.xlsx", "record")]
    assert rows[0].sha256 == sha
    assert ledger.count("records") == 1
    rejected = ws.outbox / "rejected"
    assert not rejected.exists() or not any(rejected.iterdir())
    leftovers = [p.name for p in ws.outbox.rglob("*")
                 if any(t in p.name for t in ("~$", "A1B2C3D4", "B2C3D4E5", ".~lock"))]
    assert leftovers == []


def test_excel_save_sequence_gives_one_record(
        ws: Workspace, make_filled: Callable[..., Path], spawn: Callable[[], WatchProcess],
        ledger: Ledger) -> None:
    first = make_filled("satisfaction-survey").read_bytes()
    saved = make_filled("satisfaction-survey", customer="华南电子").read_bytes()
    watcher = spawn()
    watcher.wait_ready()
    inbox = ws.inbox
    owner = inbox / "~$form.xlsx"
    owner.write_bytes(b"\x05qa-user" + b"\x00" * 40)  # Excel opens the file
    (inbox / "form.xlsx").write_bytes(first)
    time.sleep(0.5)
    # Excel's save: new content to a temp name without extension, the original renamed to a
    # .tmp backup, the temp renamed to the original name, the backup deleted
    (inbox / "A1B2C3D4").write_bytes(saved)
    os.replace(inbox / "form.xlsx", inbox / "B2C3D4E5.tmp")
    os.replace(inbox / "A1B2C3D4", inbox / "form.xlsx")
    (inbox / "B2C3D4E5.tmp").unlink()
    time.sleep(1.0)
    assert ledger.count("files") == 0, "a file was taken while Excel held it open"
    owner.unlink()  # Excel closes the file

    wait_for(settled(ws, ledger, 1), BATCH_TIMEOUT, "the saved form", (watcher,))
    time.sleep(0.5)
    assert_only_form_taken(ws, ledger, hashlib.sha256(saved).hexdigest())
    assert watcher.terminate() == 0


def test_libreoffice_lock_file_gives_one_record(
        ws: Workspace, make_filled: Callable[..., Path], spawn: Callable[[], WatchProcess],
        ledger: Ledger) -> None:
    data = make_filled("satisfaction-monitoring").read_bytes()
    watcher = spawn()
    watcher.wait_ready()
    lock = ws.inbox / ".~lock.form.xlsx#"
    lock.write_text(",qa-user,host,21.11.2026 09:00,file:///home/qa-user/.config/libreoffice/4;")
    target = ws.inbox / "form.xlsx"
    with target.open("wb") as fh:  # written in pieces while the lock exists
        for start in range(0, len(data), 2048):
            fh.write(data[start:start + 2048])
            fh.flush()
            time.sleep(0.05)
    time.sleep(1.0)
    assert ledger.count("files") == 0, "a file was taken while LibreOffice held it open"
    lock.unlink()

    wait_for(settled(ws, ledger, 1), BATCH_TIMEOUT, "the saved form", (watcher,))
    time.sleep(0.5)
    assert_only_form_taken(ws, ledger, hashlib.sha256(data).hexdigest())
    assert watcher.terminate() == 0


# -- 3. SIGKILL at random moments ---------------------------------------------------------------

def test_sigkill_during_a_batch_loses_and_doubles_nothing(
        ws: Workspace, batch: dict[str, tuple[Path, str, str]], spawn: Callable[[], WatchProcess],
        ledger: Ledger, mode: list[str]) -> None:
    files = dict(list(batch.items())[:200])
    assert 25 <= sum(e == "rejected" for _, _, e in files.values()) <= 35
    early, late = list(files.values())[:160], list(files.values())[160:]
    for path, _, _ in early:
        drop(path, ws.inbox)
    rng = random.Random(SEED + len(mode))
    for _ in range(10):
        before = ledger.count("files")
        watcher = spawn()
        # a random moment once it is working: while recovering, deciding or writing the outbox
        wait_for(functools.partial(progressed, ledger, before), BATCH_TIMEOUT,
                 "progress after a restart", (watcher,), interval=0.02)
        time.sleep(rng.uniform(0.0, 0.15))  # a file takes tens of ms: any phase of one
        watcher.kill()
    assert ledger.count("files") < len(early), "the batch finished before the tenth kill"
    assert ledger.events("recovered"), "no kill landed while a claim was in hand"

    last = spawn()
    wait_for(functools.partial(progressed, ledger, ledger.count("files")), BATCH_TIMEOUT,
             "the last watcher to start work", (last,), interval=0.02)
    for path, _, _ in late:  # found through the observer of a watcher that recovered
        drop(path, ws.inbox)
    wait_for(settled(ws, ledger, 200), BATCH_TIMEOUT, "the batch after ten kills", (last,))
    assert last.terminate() == 0
    assert_batch_outcome(ws, ledger, files)


# -- 4. two watchers, one inbox --------------------------------------------------------------

def test_two_watchers_on_one_inbox_never_process_a_file_twice(
        ws: Workspace, batch: dict[str, tuple[Path, str, str]], spawn: Callable[[], WatchProcess],
        ledger: Ledger) -> None:
    first, second = spawn(), spawn()
    first.wait_ready()
    second.wait_ready()
    for path, _, _ in batch.values():
        drop(path, ws.inbox)
    wait_for(settled(ws, ledger, len(batch)), BATCH_TIMEOUT, "300 files", (first, second))
    assert first.terminate() == 0
    assert second.terminate() == 0
    assert_batch_outcome(ws, ledger, batch)
    marks = first.marks() + second.marks()
    assert marks["REC"] + marks["REJ"] == len(batch)
    assert marks["DUP"] == 0


def test_a_watcher_started_mid_batch_breaks_nothing(
        ws: Workspace, batch: dict[str, tuple[Path, str, str]], spawn: Callable[[], WatchProcess],
        ledger: Ledger) -> None:
    files = dict(list(batch.items())[:40])
    for path, _, _ in files.values():
        drop(path, ws.inbox)
    first = spawn()
    wait_for(lambda: ledger.count("files") >= 3, BATCH_TIMEOUT, "the first watcher", (first,),
             interval=0.02)
    second = spawn()  # starts (and recovers, and cleans up) while the first one writes
    wait_for(settled(ws, ledger, len(files)), BATCH_TIMEOUT, "40 files", (first, second))
    assert first.terminate() == 0
    assert second.terminate() == 0
    assert_batch_outcome(ws, ledger, files)


# -- 5. duplicates and revisions ---------------------------------------------------------------

def test_same_file_twice_is_a_duplicate_and_a_resave_is_a_revision(
        ws: Workspace, spawn: Callable[[], WatchProcess], ledger: Ledger, tmp_path: Path) -> None:
    form = ws.registry.get("satisfaction-monitoring")
    blank = tmp_path / "blank.xlsx"
    issue_blank(ws, "satisfaction-monitoring", blank)
    wb = load_workbook(blank)
    fill_workbook(wb, form, VALID["satisfaction-monitoring"], "both")
    first = tmp_path / "first.xlsx"
    wb.save(first)
    fill_workbook(wb, form, dict(VALID["satisfaction-monitoring"], d_packaging=2), "both")
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)

    watcher = spawn()
    watcher.wait_ready()
    drop(first, ws.inbox, "monitoring.xlsx")
    wait_for(settled(ws, ledger, 1), BATCH_TIMEOUT, "the first file", (watcher,))
    drop(first, ws.inbox, "monitoring.xlsx")
    wait_for(settled(ws, ledger, 2), BATCH_TIMEOUT, "the same file again", (watcher,))

    (original,) = ledger.records()
    dup = ledger.files("duplicate")
    assert len(dup) == 1 and dup[0].record_id == original.record_id
    assert dup[0].location.startswith("archive/duplicates/")
    assert (ws.outbox / dup[0].location).read_bytes() == first.read_bytes()
    assert ledger.count("records") == 1
    assert len(record_jsons(ws)) == 1

    drop(edited, ws.inbox, "monitoring.xlsx")
    wait_for(settled(ws, ledger, 3), BATCH_TIMEOUT, "the edited file", (watcher,))
    assert watcher.terminate() == 0
    assert watcher.marks() == Counter({"REC": 2, "DUP": 1})

    assert ledger.count("records") == 2
    (latest,) = ledger.records()
    assert latest.record_id != original.record_id
    assert latest.supersedes == original.record_id
    assert latest.instance_id == original.instance_id
    assert latest.natural_key == original.natural_key
    record = json.loads((ws.outbox / latest.path).read_text(encoding="utf-8"))
    assert record["supersedes"] == original.record_id
    assert record["source"]["sha256"] == sha256(edited)
    assert "supersedes" not in json.loads((ws.outbox / original.path).read_text("utf-8"))

    runner = CliRunner()
    shown = runner.invoke(cli, ["--root", str(ws.root), "records", "--json"])
    assert shown.exit_code == 0, shown.output
    assert [r["record_id"] for r in json.loads(shown.output)] == [latest.record_id]
    every = runner.invoke(cli, ["--root", str(ws.root), "records", "--all", "--json"])
    assert every.exit_code == 0, every.output
    assert sorted(r["record_id"] for r in json.loads(every.output)) == sorted(
        [original.record_id, latest.record_id])


# -- 6. hostile files --------------------------------------------------------------------------

def test_hostile_files_are_rejected_with_reports_and_the_watcher_keeps_going(
        ws: Workspace, make_filled: Callable[..., Path], spawn: Callable[[], WatchProcess],
        ledger: Ledger, tmp_path: Path) -> None:
    corpus = hostile.build_corpus(tmp_path / "corpus")
    names = {path.name: code for path, code in corpus.values()}
    assert len(names) == len(corpus) == len(hostile.CASES)
    valid = make_filled("satisfaction-survey")
    watcher = spawn()
    watcher.wait_ready()
    for path, _ in corpus.values():
        drop(path, ws.inbox)
    wait_for(settled(ws, ledger, len(names)), BATCH_TIMEOUT, "the hostile corpus", (watcher,))
    drop(valid, ws.inbox, "after-the-storm.xlsx")
    wait_for(settled(ws, ledger, len(names) + 1), BATCH_TIMEOUT, "the valid file", (watcher,))
    peak = watcher.peak_rss_mb()
    assert watcher.terminate() == 0

    rows = {r.name: r for r in ledger.files()}
    assert len(rows) == len(names) + 1
    assert rows["after-the-storm.xlsx"].outcome == "record"
    assert ledger.count("records") == 1
    for name, code in names.items():
        row = rows[name]
        assert row.outcome == "rejected", (name, row.outcome)
        assert code in row.codes, (name, row.codes)
        report_txt = ws.outbox / row.location
        assert report_txt.name.endswith(".report.txt")
        assert code in report_txt.read_text(encoding="utf-8")
        report = json.loads(report_txt.with_name(
            report_txt.name.replace(".report.txt", ".report.json")).read_text("utf-8"))
        assert report["valid"] is False
        assert code in {issue["code"] for issue in report["issues"]}, (name, report["issues"])
        (original,) = rejected_originals(ws, name)
        assert original.read_bytes() == corpus_bytes(corpus, name)
    assert part_files(ws) == []
    assert peak < 400, f"the watcher's peak RSS was {peak:.0f} MiB"


def corpus_bytes(corpus: dict[str, tuple[Path, str]], name: str) -> bytes:
    return next(path for path, _ in corpus.values() if path.name == name).read_bytes()


# -- 7. SIGTERM --------------------------------------------------------------------------------

def test_sigterm_stops_after_the_file_in_hand_and_process_finishes_the_rest(
        ws: Workspace, batch: dict[str, tuple[Path, str, str]], spawn: Callable[[], WatchProcess],
        ledger: Ledger) -> None:
    files = dict(list(batch.items())[:40])
    for path, _, _ in files.values():
        drop(path, ws.inbox)
    watcher = spawn()
    wait_for(lambda: ledger.count("files") >= 3, BATCH_TIMEOUT, "the watcher to start work",
             (watcher,), interval=0.02)
    assert watcher.terminate() == 0
    done = ledger.count("files")
    assert done < len(files), "the watcher did not stop early"
    marks = watcher.marks()
    assert marks["REC"] + marks["REJ"] == done  # every decision it made, it finished
    work = work_folder(ws)
    assert not work.exists() or not any(work.iterdir()), "a claim was left half-done"
    for row in ledger.files():
        location = ws.outbox / row.location
        assert location.is_file(), row
    assert part_files(ws) == []

    result = subprocess.run(
        [sys.executable, "-m", "qmsforms", "--root", str(ws.root), "process", "--settle", "0.1",
         "--json"], cwd=REPO, capture_output=True, text=True, timeout=BATCH_TIMEOUT, check=False)
    assert result.returncode == 1  # the batch has invalid files
    summary = json.loads(result.stdout)
    assert summary["waiting"] == []
    assert summary["records"] + summary["rejected"] == len(files) - done
    assert summary["duplicates"] == 0
    assert candidates(ws.inbox) == []
    assert_batch_outcome(ws, ledger, files)
