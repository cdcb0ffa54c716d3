"""The intake pipeline in one process: outcomes, outbox files, ledger rows, crash recovery."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from qmsforms.blanks import issue_blank
from qmsforms.excel.fill import fill_workbook
from qmsforms.intake import WORK_DIR, Intake, LedgerError, open_ledger
from qmsforms.intake.ledger import LedgerStore
from qmsforms.intake.outbox import OutboxWriter
from qmsforms.intake.outputs import RECORD_SHEET
from qmsforms.intake.pipeline import Outcome
from qmsforms.issues import QmsFormsError
from qmsforms.workspace import Workspace

from .. import hostile
from ..conftest import SQLITE_ONLY


@pytest.fixture
def ws(ws: Workspace, ledger_url: str | None) -> Workspace:
    """Every test here runs on each ledger engine (``ledger_url`` sets ``QMSFORMS_LEDGER``,
    for this process and the subprocesses a test starts)."""
    return ws

RECORD_KEYS = {"record_id", "form", "revision", "instance_id", "data", "scores", "source",
               "processed_at"}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def drop(ws: Workspace, path: Path, name: str | None = None) -> Path:
    target = ws.inbox / (name or path.name)
    shutil.copyfile(path, target)
    return target


def process(ws: Workspace, files: list[Path] | None = None) -> list[Outcome]:
    with Intake(ws, settle=0.05) as intake:
        return intake.process(files).outcomes


def ledger(ws: Workspace) -> LedgerStore[Any]:
    """The workspace's ledger, of whichever engine it is kept in."""
    return open_ledger(ws, write=True)


def outbox_files(ws: Workspace) -> list[str]:
    return sorted(str(p.relative_to(ws.outbox)) for p in ws.outbox.rglob("*")
                  if p.is_file() and p.name != ".gitkeep")


def test_a_valid_file_becomes_a_record(ws: Workspace, make_filled: Any) -> None:
    source = make_filled("satisfaction-survey")
    dropped = drop(ws, source, "调查表 ACME.xlsx")
    (outcome,) = process(ws)
    assert outcome.outcome == "record" and outcome.form == "satisfaction-survey"
    assert not dropped.exists() and not list((ws.inbox / ".qmsforms-work").iterdir())
    record = json.loads((ws.outbox / outcome.location).read_text(encoding="utf-8"))
    assert set(record) == RECORD_KEYS | {"notes"}
    assert record["record_id"] == outcome.record_id
    assert record["source"] == {"name": "调查表 ACME.xlsx", "sha256": sha(source),
                                "received_at": record["source"]["received_at"]}
    assert record["scores"]["score"] == 88.6 and record["scores"]["policy"]["id"] == "survey-000"
    assert record["notes"] == ["not_issued_here"]
    archived = ws.outbox / "archive" / "satisfaction-survey" / \
        f"{outcome.record_id}__调查表 ACME.xlsx"
    assert archived.read_bytes() == source.read_bytes()
    wb = load_workbook(ws.outbox / outcome.location.replace(".json", ".xlsx"))
    assert wb.sheetnames[0] == RECORD_SHEET
    values = {row[0]: row[1] for row in wb[RECORD_SHEET].iter_rows(min_row=2, values_only=True)}
    assert values["记录号 Record id"] == outcome.record_id
    assert values["调查得分 Survey score"] == 88.6
    with ledger(ws) as led:
        (row,) = led.records()
        assert row.record_id == outcome.record_id and row.customer == "华东汽车"
        assert row.scores["score"] == 88.6 and led.files("record")[0].name == "调查表 ACME.xlsx"


def test_an_invalid_file_is_rejected_with_a_report(ws: Workspace, make_filled: Any) -> None:
    source = make_filled("satisfaction-survey", delivery=None, packaging=None, appearance=None)
    drop(ws, source, "bad.xlsx")
    (outcome,) = process(ws)
    assert outcome.outcome == "rejected" and outcome.codes == ("INCOMPLETE_SURVEY",)
    base = outcome.location.removesuffix(".report.txt")
    assert outbox_files(ws) == sorted(f"{base}{s}" for s in (
        ".annotated.xlsx", ".report.json", ".report.txt", ".xlsx"))
    assert (ws.outbox / f"{base}.xlsx").read_bytes() == source.read_bytes()
    report = json.loads((ws.outbox / f"{base}.report.json").read_text(encoding="utf-8"))
    assert [i["code"] for i in report["issues"]] == ["INCOMPLETE_SURVEY"]
    assert report["issues"][0]["cell"]
    text = (ws.outbox / outcome.location).read_text(encoding="utf-8")
    assert "INCOMPLETE_SURVEY" in text and report["issues"][0]["cell"] in text
    assert "问题 Issues" in load_workbook(ws.outbox / f"{base}.annotated.xlsx").sheetnames
    with ledger(ws) as led:
        (row,) = led.files("rejected")
        assert row.codes == ("INCOMPLETE_SURVEY",) and led.count("records") == 0


def test_the_same_file_twice_is_one_record(ws: Workspace, make_filled: Any) -> None:
    source = make_filled("satisfaction-monitoring")
    drop(ws, source, "a.xlsx")
    first = process(ws)[0]
    drop(ws, source, "a (copy).xlsx")
    second = process(ws)[0]
    assert second.outcome == "duplicate" and second.record_id == first.record_id
    assert (ws.outbox / second.location).read_bytes() == source.read_bytes()
    with ledger(ws) as led:
        assert led.count("records") == 1 and len(led.files("duplicate")) == 1
        assert led.events("duplicate")[0]["detail"] == first.record_id


def refill(path: Path, ws: Workspace, form_id: str, values: dict[str, Any]) -> Path:
    wb = load_workbook(path)
    fill_workbook(wb, ws.registry.get(form_id), values)
    wb.save(path)
    return path


def test_an_edited_resave_is_a_linked_revision(ws: Workspace, make_filled: Any,
                                               tmp_path: Path) -> None:
    source = make_filled("satisfaction-monitoring")
    drop(ws, source)
    first = process(ws)[0]
    refill(source, ws, "satisfaction-monitoring", {"q_full_return": 1})
    drop(ws, source)
    second = process(ws)[0]
    assert second.outcome == "record" and second.supersedes == first.record_id
    record = json.loads((ws.outbox / second.location).read_text(encoding="utf-8"))
    assert record["supersedes"] == first.record_id and record["scores"]["total"] == 94.0
    with ledger(ws) as led:
        assert [r.record_id for r in led.records()] == [second.record_id]
        assert led.count("records") == 2 and not led.record(first.record_id).latest


def test_one_blank_sent_to_two_customers_gives_two_records(ws: Workspace, make_filled: Any,
                                                           tmp_path: Path) -> None:
    source = make_filled("satisfaction-survey")
    other = tmp_path / "other.xlsx"
    shutil.copyfile(source, other)
    refill(other, ws, "satisfaction-survey", {"customer": "西南电机"})
    drop(ws, source)
    drop(ws, other)
    outcomes = process(ws)
    assert [o.outcome for o in outcomes] == ["record", "record"]
    assert not outcomes[0].supersedes and not outcomes[1].supersedes
    assert "reused_blank" in outcomes[1].notes


def test_a_blank_issued_here_carries_no_note(ws: Workspace, tmp_path: Path) -> None:
    path = issue_blank(ws, "satisfaction-survey", tmp_path / "s.xlsx",
                       values={"customer": "ACME"}, record=True)
    refill(path, ws, "satisfaction-survey", {"period": "2026", "product_quality": 5,
                                             "delivery": 5, "packaging": 5, "appearance": 5,
                                             "price": 5})
    drop(ws, path)
    (outcome,) = process(ws)
    assert outcome.outcome == "record" and outcome.notes == ()
    with ledger(ws) as led:
        assert led.issued()[0]["customer"] == "ACME"


def test_named_files_outside_the_inbox_are_copied(ws: Workspace, make_filled: Any) -> None:
    source = make_filled("shipping-list")
    before = source.read_bytes()
    (outcome,) = process(ws, [source])
    assert outcome.outcome == "record" and source.read_bytes() == before


def test_a_file_open_in_an_editor_waits(ws: Workspace, make_filled: Any) -> None:
    drop(ws, make_filled("shipping-list"), "list.xlsx")
    (ws.inbox / ".~lock.list.xlsx#").write_text("user,host")
    with Intake(ws, settle=0.05) as intake:
        result = intake.process()
    assert result.outcomes == [] and [p.name for p in result.waiting] == ["list.xlsx"]
    (ws.inbox / ".~lock.list.xlsx#").unlink()
    assert [o.outcome for o in process(ws)] == ["record"]


def test_text_that_looks_like_a_formula_stays_text(ws: Workspace, make_filled: Any) -> None:
    evil = "=HYPERLINK(\"http://x\",\"click\")"
    drop(ws, make_filled("complaint", description=evil, customer="+SUM(1,2)"))
    (outcome,) = process(ws)
    wb = load_workbook(ws.outbox / outcome.location.replace(".json", ".xlsx"))
    cells = [c for row in wb.worksheets[1].iter_rows() for c in row if c.value in (evil,
                                                                                  "+SUM(1,2)")]
    assert len(cells) == 2 and all(c.data_type == "s" for c in cells)


def test_typed_formulas_are_rejected_and_annotated_as_text(ws: Workspace,
                                                           make_filled: Any) -> None:
    path = make_filled("shipping-list")
    wb = load_workbook(path)
    sheet, cell = next(iter(wb.defined_names["customer"].destinations))
    wb[sheet][cell.replace("$", "").split(":")[0]] = "=1+1"
    wb.save(path)
    drop(ws, path, "formula.xlsx")
    (outcome,) = process(ws)
    assert outcome.outcome == "rejected" and "FORMULA_IN_INPUT" in outcome.codes
    annotated = load_workbook(ws.outbox / outcome.location.replace(".report.txt",
                                                                   ".annotated.xlsx"))
    values = [c for row in annotated["问题 Issues"].iter_rows() for c in row
              if c.value == "=1+1"]
    assert values and all(c.data_type == "s" for c in values)


def test_file_names_are_sanitised(ws: Workspace) -> None:
    drop_path = ws.inbox / "a..b:c\x07d.xlsx"
    drop_path.write_bytes(b"junk")
    (outcome,) = process(ws)
    name = Path(outcome.location).name
    assert outcome.outcome == "rejected" and ":" not in name and "\x07" not in name
    assert not name.startswith(".") and outcome.location.startswith("rejected/")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    return hostile.build_corpus(tmp_path_factory.mktemp("hostile"))


def test_every_hostile_file_is_rejected_with_its_code(ws: Workspace, make_filled: Any,
                                                      corpus: dict[str, tuple[Path, str]]) -> None:
    for case, (path, _code) in corpus.items():
        drop(ws, path, f"{case}{path.suffix}")
    drop(ws, make_filled("shipping-list"), "good.xlsx")
    outcomes = {o.name: o for o in process(ws)}
    assert outcomes.pop("good.xlsx").outcome == "record"
    assert len(outcomes) == len(corpus)
    for case, (path, code) in corpus.items():
        outcome = outcomes[f"{case}{path.suffix}"]
        assert outcome.outcome == "rejected", case
        assert code in outcome.codes, (case, outcome.codes)
        assert (ws.outbox / outcome.location).is_file()


def test_defusedxml_must_be_active(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl.xml

    monkeypatch.setattr(openpyxl.xml, "DEFUSEDXML", False)
    with pytest.raises(QmsFormsError, match="defusedxml"):
        Intake(ws)


# -- crashes ---------------------------------------------------------------------------------

class Crash(BaseException):
    """The process dying at this point (not an error the intake handles)."""


def crash(*_: object, **__: object) -> None:
    raise Crash


def state(ws: Workspace) -> tuple[int, int, list[str]]:
    with ledger(ws) as led:
        assert led.integrity() == "ok"
        return led.count("records"), led.count("files"), [
            p for p in outbox_files(ws) if p.startswith("records/") and p.endswith(".json")]


def test_crash_after_the_claim_is_recovered(ws: Workspace, make_filled: Any,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    drop(ws, make_filled("shipping-list"))
    monkeypatch.setattr(Intake, "_decide", crash)
    with pytest.raises(Crash):
        process(ws)
    assert state(ws) == (0, 0, []) and len(list((ws.inbox / ".qmsforms-work").iterdir())) == 1
    monkeypatch.undo()
    (outcome,) = process(ws)
    assert outcome.outcome == "record"
    records, files, jsons = state(ws)
    assert (records, files, len(jsons)) == (1, 1, 1)


@pytest.mark.parametrize("step", ["record", "write_json", "_record_copy"])
def test_crash_after_the_decision_only_redoes_the_outputs(
        ws: Workspace, make_filled: Any, monkeypatch: pytest.MonkeyPatch, step: str) -> None:
    import qmsforms.intake.outbox as outbox

    source = make_filled("satisfaction-monitoring")
    drop(ws, source)
    target = outbox if step == "write_json" else OutboxWriter
    monkeypatch.setattr(target, step, crash)
    with pytest.raises(Crash):
        process(ws)
    records, files, jsons = state(ws)
    assert (records, files, jsons) == (1, 1, [])
    monkeypatch.undo()
    (outcome,) = process(ws)
    assert outcome.outcome == "record"
    records, files, jsons = state(ws)
    assert (records, files, len(jsons)) == (1, 1, 1)
    archived = list((ws.outbox / "archive").rglob("*.xlsx"))
    assert len(archived) == 1 and archived[0].read_bytes() == source.read_bytes()
    assert not [p for p in ws.outbox.rglob(".~part-*")]


def test_crash_while_rejecting_is_recovered(ws: Workspace, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    (ws.inbox / "junk.xlsx").write_bytes(b"junk")
    monkeypatch.setattr(OutboxWriter, "rejection", crash)
    with pytest.raises(Crash):
        process(ws)
    monkeypatch.undo()
    (outcome,) = process(ws)
    assert outcome.outcome == "rejected" and outcome.codes == ("NOT_AN_OFFICE_FILE",)
    assert (ws.outbox / outcome.location).is_file()
    with ledger(ws) as led:
        assert led.count("files") == 1 and len(led.events("recovered")) == 1


def test_leftover_part_files_are_removed(ws: Workspace) -> None:
    part = ws.outbox / "records" / "x" / ".~part-1234-R1.json"
    part.parent.mkdir(parents=True)
    part.write_text("{")
    Intake(ws).close()
    assert not part.exists()


# -- the work folder: never delete what the intake did not make ---------------------------------

def claim_folder(ws: Workspace, claim_id: str = "20261201T080000Z-0123456789ab") -> Path:
    folder = ws.inbox / ".qmsforms-work" / claim_id
    folder.mkdir(parents=True)
    return folder


def test_a_claim_open_in_excel_waits_and_keeps_everything(ws: Workspace,
                                                          make_filled: Any) -> None:
    source = make_filled("shipping-list")
    folder = claim_folder(ws)
    shutil.copyfile(source, folder / "发货单.xlsx")
    owner = folder / "~$发货单.xlsx"  # Excel's owner file: someone opened the claim
    owner.write_bytes(b"\x05user")
    with Intake(ws, settle=0.05) as intake:
        result = intake.process()
    assert result.outcomes == [] and list(result.left) == [f".qmsforms-work/{folder.name}"]
    assert (folder / "发货单.xlsx").read_bytes() == source.read_bytes() and owner.exists()
    owner.unlink()  # Excel closed
    (outcome,) = process(ws)
    assert outcome.outcome == "record" and outcome.name == "发货单.xlsx"
    assert not folder.exists()


def test_a_stale_owner_file_left_after_the_claim_goes_back_to_the_inbox(
        ws: Workspace, make_filled: Any) -> None:
    folder = claim_folder(ws)
    shutil.copyfile(make_filled("shipping-list"), folder / "a.xlsx")
    (folder / "~$other.xlsx").write_bytes(b"\x05user")  # not this file's: no wait
    (outcome,) = process(ws)
    assert outcome.outcome == "record"
    assert (ws.inbox / "~$other.xlsx").read_bytes() == b"\x05user"  # kept, and ignored there
    assert not folder.exists()


def test_files_someone_put_into_a_claim_go_back_to_the_inbox(ws: Workspace,
                                                            make_filled: Any) -> None:
    folder = claim_folder(ws)
    first = make_filled("shipping-list", doc_no="FH-1")
    second = make_filled("shipping-list", doc_no="FH-2")
    shutil.copyfile(first, folder / "one.xlsx")
    shutil.copyfile(second, folder / "two.xlsx")
    (folder / "sub").mkdir()
    shutil.copyfile(second, folder / "sub" / "three.xlsx")
    outcomes = process(ws)
    # nothing decided for that claim: all of it was claimed afresh from the inbox
    assert sorted((o.name, o.outcome) for o in outcomes) == [
        ("one.xlsx", "record"), ("sub/three.xlsx", "record"), ("two.xlsx", "duplicate")]
    assert not folder.exists()
    assert (ws.inbox / "sub").is_dir()


def test_strays_in_the_work_folder_are_returned_not_deleted(ws: Workspace,
                                                           make_filled: Any) -> None:
    work = ws.inbox / ".qmsforms-work"
    work.mkdir(parents=True)
    shutil.copyfile(make_filled("shipping-list"), work / "lost.xlsx")
    (work / "someone's folder").mkdir()
    (work / "someone's folder" / "note.txt").write_text("keep me")
    (work / "Thumbs.db").write_bytes(b"thumbs")
    outcomes = process(ws)
    assert sorted((o.name, o.outcome) for o in outcomes) == [
        ("lost.xlsx", "record"), ("someone's folder/note.txt", "rejected")]
    assert (ws.inbox / "Thumbs.db").read_bytes() == b"thumbs"  # kept, and ignored there
    assert (ws.inbox / "someone's folder").is_dir()


def test_a_decided_claim_redoes_its_outputs_and_returns_the_rest(
        ws: Workspace, make_filled: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    source = make_filled("shipping-list")
    drop(ws, source, "a.xlsx")
    monkeypatch.setattr(OutboxWriter, "record", crash)
    with pytest.raises(Crash):
        process(ws)
    monkeypatch.undo()
    (folder,) = (ws.inbox / ".qmsforms-work").iterdir()
    shutil.copyfile(make_filled("shipping-list", doc_no="FH-X"), folder / "x.xlsx")
    outcomes = process(ws)
    assert sorted((o.name, o.outcome) for o in outcomes) == [("a.xlsx", "record"),
                                                            ("x.xlsx", "record")]
    with ledger(ws) as led:
        assert led.count("records") == 2 and led.count("files") == 2


@pytest.mark.skipif(shutil.which("setpriv") is None or os.geteuid() != 0,
                    reason="needs root and setpriv to drop the right to read any file")
def test_a_file_the_intake_cannot_read_is_left_alone_and_reported(
        ws: Workspace, make_filled: Any) -> None:
    good = drop(ws, make_filled("shipping-list", doc_no="FH-GOOD"), "good.xlsx")
    secret = drop(ws, make_filled("shipping-list", doc_no="FH-ACL"), "acl.xlsx")
    os.chown(secret, 65534, -1)  # another user's file, readable only by them
    secret.chmod(0o600)
    before = secret.read_bytes()
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    run = subprocess.run(
        ["setpriv", "--bounding-set=-dac_override,-dac_read_search", sys.executable, "-m",
         "qmsforms", "--root", str(ws.root), "process", "--json", "--settle", "0.05"],
        capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 1, run.stderr
    result = json.loads(run.stdout)
    assert [(o["name"], o["outcome"]) for o in result["outcomes"]] == [("good.xlsx", "record")]
    assert list(result["left"]) == ["acl.xlsx"]
    assert secret.read_bytes() == before and not good.exists()
    assert "Traceback" not in run.stderr


# -- a lost ledger ---------------------------------------------------------------------------

@SQLITE_ONLY
@pytest.mark.parametrize("how", ["deleted", "truncated"])
def test_a_lost_ledger_stops_the_intake_before_a_file_is_recorded_again(
        ws: Workspace, make_filled: Any, how: str) -> None:
    source = make_filled("satisfaction-survey")
    drop(ws, source, "s.xlsx")
    (first,) = process(ws)
    record_json = ws.outbox / first.location
    before = record_json.read_bytes()
    path = ws.state_dir / "ledger.sqlite"
    if how == "deleted":
        path.unlink()
    else:
        path.write_bytes(b"")
    again = drop(ws, source, "s again.xlsx")
    with pytest.raises(LedgerError) as err:
        Intake(ws)
    assert err.value.code == "LEDGER_MISSING"
    assert again.exists() and record_json.read_bytes() == before
    assert not list((ws.inbox / ".qmsforms-work").iterdir())
    assert not path.exists() or path.stat().st_size == 0


@pytest.mark.skipif(shutil.which("setpriv") is None or os.geteuid() != 0,
                    reason="needs root and setpriv to drop the right to read any file")
def test_a_watcher_leaves_a_file_it_cannot_read_and_goes_on(
        ws: Workspace, make_filled: Any, tmp_path: Path) -> None:
    from .test_watch import wait_for

    secret = drop(ws, make_filled("shipping-list", doc_no="FH-ACL"), "acl.xlsx")
    os.chown(secret, 65534, -1)
    secret.chmod(0o600)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]),
               PYTHONUNBUFFERED="1")
    err = (tmp_path / "watch.err").open("wb")
    watcher = subprocess.Popen(
        ["setpriv", "--bounding-set=-dac_override,-dac_read_search", sys.executable, "-m",
         "qmsforms", "--root", str(ws.root), "watch", "--settle", "0.1"],
        stdout=subprocess.DEVNULL, stderr=err, env=env)
    try:
        good = drop(ws, make_filled("shipping-list", doc_no="FH-GOOD"), "good.xlsx")
        with ledger(ws) as led:
            wait_for(lambda: led.count("records") == 1 and not good.exists(), 120,
                     "the good file")
        time.sleep(1.0)
        assert watcher.poll() is None and secret.exists()
        run = subprocess.run(["setpriv", "--bounding-set=-dac_override,-dac_read_search",
                              sys.executable, "-m", "qmsforms", "--root", str(ws.root),
                              "status", "--json"], capture_output=True, text=True, env=env)
        assert run.returncode == 1
        states = {e["name"]: e["state"] for e in json.loads(run.stdout)["inbox"]}
        assert states == {"acl.xlsx": "unreadable"}
    finally:
        watcher.terminate()
        assert watcher.wait(timeout=60) == 0
        err.close()
    with ledger(ws) as led:
        assert led.count("files") == 1


def test_a_running_intake_reads_a_fixed_definition_again(ws: Workspace,
                                                         make_filled: Any) -> None:
    """A watcher runs for weeks: a typo in a questionnaire refuses its files (every other form
    goes on) and, once fixed, the next file of that form is recorded without a restart."""
    survey, shipping = make_filled("satisfaction-survey"), make_filled("shipping-list")
    toml = ws.schemas_dir / "questionnaires" / "satisfaction-survey.toml"
    good = toml.read_text(encoding="utf-8")
    with Intake(ws, settle=0.05) as intake:
        intake.process()  # the reader child starts with the sound definitions
        toml.write_text(good.replace("weight", "wieght", 1), encoding="utf-8")
        drop(ws, survey, "s.xlsx")
        drop(ws, shipping, "l.xlsx")
        outcomes = {o.name: o for o in intake.process().outcomes}
        assert outcomes["s.xlsx"].codes == ("FORM_DEFINITION_BROKEN",)
        assert outcomes["l.xlsx"].outcome == "record"
        toml.write_text(good, encoding="utf-8")
        drop(ws, survey, "s.xlsx")
        (again,) = intake.process().outcomes
    assert again.outcome == "record" and again.form == "satisfaction-survey"
    assert not any((ws.inbox / WORK_DIR).iterdir())
