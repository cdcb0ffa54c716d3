"""Tests for qmsforms.safety: every hostile file is refused with the right code, clean ones pass."""

from __future__ import annotations

import io
import random
import re
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pytest

from qmsforms.issues import QmsFormsError
from qmsforms.safety import Limits, check_defusedxml, inspect_file

from . import hostile


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    return hostile.build_corpus(tmp_path_factory.mktemp("hostile"))


def test_corpus_is_big_enough() -> None:
    assert len(hostile.CASES) >= 20


@pytest.mark.parametrize("case", sorted(hostile.CASES))
def test_hostile_file_is_refused(corpus: dict[str, tuple[Path, str]], case: str) -> None:
    path, code = corpus[case]
    issues = inspect_file(path)
    assert [i.code for i in issues] == [code]
    issue = issues[0]
    assert issue.severity == "error"
    assert issue.field is None and issue.cell is None
    assert issue.message_en and issue.message_zh


@pytest.mark.parametrize("case", ["xlsm", "vba_project", "billion_laughs", "zip_bomb"])
def test_hostile_file_is_refused_with_explicit_expect(
        corpus: dict[str, tuple[Path, str]], case: str) -> None:
    path, code = corpus[case]
    assert [i.code for i in inspect_file(path, expect="xlsx")] == [code]


def test_clean_xlsx_passes(tmp_path: Path) -> None:
    assert inspect_file(hostile.write_clean_xlsx(tmp_path)) == []
    assert inspect_file(hostile.write_clean_xlsx(tmp_path), expect="xlsx") == []


def test_clean_docx_passes(tmp_path: Path) -> None:
    assert inspect_file(hostile.write_clean_docx(tmp_path), expect="docx") == []


def test_real_openpyxl_workbook_with_data_passes(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for r in range(1, 2001):
        ws.append([r, f"lot {r}", r * 1.5, "合格"])
    wb.create_sheet("Second")["C3"] = "x"
    path = tmp_path / "data.xlsx"
    wb.save(path)
    assert inspect_file(path) == []
    assert openpyxl.load_workbook(path).sheetnames == ["Sheet", "Second"]


def test_real_python_docx_document_passes(tmp_path: Path) -> None:
    docx = pytest.importorskip("docx")
    document = docx.Document()
    document.add_paragraph("检验记录")
    path = tmp_path / "real.docx"
    document.save(str(path))
    assert inspect_file(path) == []


def test_suffix_decides_expectation_and_unknown_suffix_accepts_either(tmp_path: Path) -> None:
    xlsx = hostile.write_clean_xlsx(tmp_path)
    assert [i.code for i in inspect_file(xlsx, expect="docx")] == ["WRONG_FILE_KIND"]
    renamed = xlsx.rename(tmp_path / "form.zip")
    assert inspect_file(renamed) == []


def test_missing_file(tmp_path: Path) -> None:
    assert [i.code for i in inspect_file(tmp_path / "gone.xlsx")] == ["FILE_NOT_FOUND"]


def test_directory_is_unreadable(tmp_path: Path) -> None:
    folder = tmp_path / "folder.xlsx"
    folder.mkdir()
    assert [i.code for i in inspect_file(folder)] == ["UNREADABLE"]


def test_limits_apply(tmp_path: Path) -> None:
    path = hostile.write_clean_xlsx(tmp_path)
    assert [i.code for i in inspect_file(path, limits=Limits(max_file_bytes=100))] == [
        "UNREADABLE"]
    assert [i.code for i in inspect_file(path, limits=Limits(max_members=3))] == ["ZIP_BOMB"]
    assert [i.code for i in inspect_file(path, limits=Limits(max_member_bytes=1000))] == [
        "ZIP_BOMB"]
    small = Limits(max_rows=1)
    assert [i.code for i in inspect_file(path, limits=small)] == ["ABSURD_DIMENSIONS"]


@pytest.mark.parametrize(("ref", "refused"), [
    ("A1:H50040", False), ("A1:XFD1", False), ("A1:H300000", True), ("A1:XFD1048576", True),
])
def test_a_declared_dimension_is_held_to_the_sheet_limits(tmp_path: Path, ref: str,
                                                          refused: bool) -> None:
    member = "xl/worksheets/sheet1.xml"
    sheet = dict(hostile.xlsx_members())[member]
    sheet = re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(), sheet)
    path = tmp_path / "dim.xlsx"
    path.write_bytes(hostile.xlsx_bytes({member: sheet}))
    assert [i.code for i in inspect_file(path)] == (["ABSURD_DIMENSIONS"] if refused else [])


def test_a_word_document_too_large_to_read_is_refused(tmp_path: Path) -> None:
    path = hostile.write_clean_docx(tmp_path)
    size = len(dict(hostile.DOCX_MEMBERS)["word/document.xml"])
    assert inspect_file(path, limits=Limits(max_document_bytes=size)) == []
    refused = inspect_file(path, limits=Limits(max_document_bytes=size - 1))
    assert [(i.code, i.value) for i in refused] == [("ZIP_BOMB", "word/document.xml")]


def test_the_gate_hands_on_the_worksheets_it_inflated(tmp_path: Path) -> None:
    path = hostile.write_clean_xlsx(tmp_path)
    inflated: dict[str, bytes] = {}
    assert inspect_file(path, inflated=inflated) == []
    with zipfile.ZipFile(path) as zf:
        assert inflated == {n: zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/")}
    bad = hostile.CASES["late_dtd"][0](tmp_path)
    assert inspect_file(bad, inflated=inflated) != [] and inflated == {}


def test_check_defusedxml_passes() -> None:
    check_defusedxml()


def test_check_defusedxml_fails_when_openpyxl_is_not_defused(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl.xml

    monkeypatch.setattr(openpyxl.xml, "DEFUSEDXML", False)
    with pytest.raises(QmsFormsError):
        check_defusedxml()


@pytest.mark.parametrize("case", ["zip_bomb", "lying_sizes", "late_dtd"])
def test_memory_stays_bounded(corpus: dict[str, tuple[Path, str]], case: str) -> None:
    path, code = corpus[case]
    tracemalloc.start()
    try:
        issues = inspect_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [i.code for i in issues] == [code]
    assert peak < 50 * 2**20


def test_a_larger_honest_workbook_passes(tmp_path: Path) -> None:
    """20,000 rows pass the gate (its speed is measured in benchmarks/, not asserted here)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for r in range(20_000):
        ws.append([r, f"lot {r}", r * 1.5, "合格", "备注"])
    path = tmp_path / "big.xlsx"
    wb.save(path)
    assert inspect_file(path) == []


def _mutants(data: bytes, rng: random.Random) -> list[bytes]:
    out = [data[:n] for n in range(0, len(data), 97)]
    for _ in range(300):
        mutant = bytearray(data)
        for _ in range(rng.randint(1, 3)):
            mutant[rng.randrange(len(mutant))] = rng.randrange(256)
        out.append(bytes(mutant))
    return out


def test_mutated_files_never_raise_and_passing_ones_open(tmp_path: Path) -> None:
    """Truncations and random byte changes: an issue or [], never an exception; [] must open."""
    rng = random.Random(1234)
    data = hostile.xlsx_bytes()
    path = tmp_path / "mutant.xlsx"
    accepted = 0
    for mutant in _mutants(data, rng):
        path.write_bytes(mutant)
        issues = inspect_file(path)
        if not issues:
            accepted += 1
            with zipfile.ZipFile(io.BytesIO(mutant)) as zf:
                for info in zf.infolist():
                    zf.read(info)  # no BadZipFile/CRC error can reach the parser
    assert accepted < 300  # most mutations are caught
