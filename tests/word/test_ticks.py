"""Tick marks typed into a Word form: a yes/no control whose check box became text (an older
Word, a re-save, a person typing over the box) is read with the workspace's tick vocabulary."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest

from qmsforms.blanks import issue_blank
from qmsforms.normalize import TICKED_MARKS, UNTICKED_MARKS
from qmsforms.validate import validate_file
from qmsforms.word.fill import fill_word, set_control
from qmsforms.word.ooxml import el, iter_sdts, prop, w
from qmsforms.workspace import Workspace

from ..conftest import VALID


def _typed_over_the_box(ws: Workspace, tmp_path: Path, mark: str) -> Path:
    """A filled complaint whose *urgent* check box is now a text control showing ``mark``."""
    path = issue_blank(ws, "complaint", tmp_path / f"complaint-{ord(mark[0])}.docx")
    fill_word(path, VALID["complaint"], path)
    document = docx.Document(str(path))
    (sdt,) = [s for s in iter_sdts(document.element.body) if prop(s, "w:tag") == "urgent"]
    props = sdt.find(w("w:sdtPr"))
    props.remove(props.find(w("w14:checkbox")))
    props.append(el("w:text"))
    set_control(sdt, mark)
    document.save(str(path))
    return path


@pytest.mark.parametrize("mark", [*TICKED_MARKS, "OK", "X", "✔\ufe0f"])
def test_a_tick_typed_over_a_check_box_means_yes(ws: Workspace, tmp_path: Path,
                                                 mark: str) -> None:
    report = validate_file(_typed_over_the_box(ws, tmp_path, mark), ws)
    assert report.valid, report.flatten(["code", "field"])
    assert report.data["urgent"] is True


@pytest.mark.parametrize("mark", UNTICKED_MARKS)
def test_an_untick_typed_over_a_check_box_means_no(ws: Workspace, tmp_path: Path,
                                                   mark: str) -> None:
    report = validate_file(_typed_over_the_box(ws, tmp_path, mark), ws)
    assert report.valid, report.flatten(["code", "field"])
    assert report.data["urgent"] is False


def test_the_workspace_vocabulary_decides(ws: Workspace, tmp_path: Path) -> None:
    config = ws.root / "qmsforms.toml"
    text = config.read_text(encoding="utf-8").partition("[ticks]")[0]
    config.write_text(text + '[ticks]\nyes = ["√", "要"]\nno = ["☐"]\n', encoding="utf-8")
    here = Workspace(ws.root)
    assert validate_file(_typed_over_the_box(here, tmp_path, "要"), here).data["urgent"] is True
    refused = validate_file(_typed_over_the_box(here, tmp_path, "对"), here)
    assert refused.flatten(["code", "field"]) == [["NOT_A_BOOL", "urgent"]]
