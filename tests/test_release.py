"""Releasing a revision: the grace period of the old one, what cannot be carried over, and the
configuration file ``init`` writes."""

from __future__ import annotations

import re
import zipfile
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from qmsforms.cli import cli
from qmsforms.config import (
    CONFIG_NAME,
    Company,
    Config,
    Defaults,
    DocumentControl,
    IntakeSettings,
    LedgerSettings,
    LimitSettings,
    PathSettings,
    Scoring,
    SiteSettings,
    TickSettings,
    load_config,
)
from qmsforms.issues import QmsFormsError
from qmsforms.registry import BUILTIN
from qmsforms.release import release
from qmsforms.validate import validate_file
from qmsforms.workspace import Workspace

from .conftest import FillFn, LogoFn


def test_a_returned_old_revision_is_taken_until_its_grace_period_ends(
        ws: Workspace, make_filled: FillFn) -> None:
    returned = make_filled("satisfaction-survey")  # a blank of revision A, filled
    release(ws, "satisfaction-survey", "B", effective=date(2026, 12, 1), by="王芳",
            grace_days=30)
    fresh = Workspace(ws.root)
    inside = validate_file(returned, fresh, today=date(2026, 12, 31))
    assert inside.valid
    assert [i.code for i in inside.issues] == ["SUPERSEDED_REVISION"]
    after = validate_file(returned, fresh, today=date(2027, 1, 1))
    assert not after.valid
    assert [i.code for i in after.issues] == ["OBSOLETE_REVISION"]


def test_a_blank_of_the_released_revision_is_read_back(ws: Workspace,
                                                       make_filled: FillFn) -> None:
    release(ws, "complaint", "B", effective=date(2026, 12, 1), by="王芳", note="新增栏位说明")
    fresh = Workspace(ws.root)
    filled = make_filled("complaint", workspace=fresh)
    report = validate_file(filled, fresh)
    assert report.valid and report.revision == "B" and report.issues == []
    # the history is the controlled template's record; the issued form does not carry it
    history = load_workbook(ws.templates_dir / "complaint.xlsx")["修订记录 Revision history"]
    assert [r[:3] for r in history.iter_rows(min_row=3, values_only=True)] == [
        ("A", None, None), ("B", "A", "2026-12-01")]
    assert "修订记录 Revision history" not in load_workbook(filled).sheetnames


def test_the_cli_takes_a_returned_a_after_the_release(ws: Workspace,
                                                      make_filled: FillFn) -> None:
    returned = make_filled("satisfaction-survey")
    runner = CliRunner()
    root = ["--root", str(ws.root)]
    assert runner.invoke(cli, [*root, "templates", "release", "satisfaction-survey",
                               "--revision", "B"]).exit_code == 0
    result = runner.invoke(cli, [*root, "validate", str(returned), "--json"])
    assert result.exit_code == 0, result.output
    assert '"SUPERSEDED_REVISION"' in result.stdout


def _add_shape(path: Path) -> None:
    """A text box drawn beside the logo: a drawing shape, which openpyxl cannot write back."""
    shape = ('<twoCellAnchor><from><col>9</col><colOff>0</colOff><row>1</row><rowOff>0</rowOff>'
             '</from><to><col>11</col><colOff>0</colOff><row>3</row><rowOff>0</rowOff></to>'
             '<sp macro="" textlink=""><nvSpPr><cNvPr id="9" name="Box"/><cNvSpPr txBox="1"/>'
             '</nvSpPr><spPr><a:prstGeom xmlns:a="http://schemas.openxmlformats.org/drawingml/'
             '2006/main" prst="rect"><a:avLst/></a:prstGeom></spPr></sp><clientData/>'
             '</twoCellAnchor>')
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    name = next(n for n in parts if n.startswith("xl/drawings/drawing"))
    text = parts[name].decode()
    parts[name] = text.replace("</wsDr>", shape + "</wsDr>").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in parts.items():
            zf.writestr(n, data)


def test_a_template_that_would_lose_a_shape_is_not_released(ws: Workspace,
                                                             add_logo: LogoFn) -> None:
    template = ws.templates_dir / "complaint.xlsx"
    add_logo(template)
    _add_shape(template)
    before = template.read_bytes()
    history = (ws.templates_dir / "revisions.toml").read_bytes()
    with pytest.raises(QmsFormsError, match="shape"):
        release(ws, "complaint", "B")
    assert template.read_bytes() == before
    assert (ws.templates_dir / "revisions.toml").read_bytes() == history
    assert list((ws.templates_dir / "archive").glob("*")) == []
    assert Workspace(ws.root).registry.get("complaint").revision == "A"


def test_built_in_revisions_are_data() -> None:
    assert all(not hasattr(b, "revision") for b in BUILTIN)


# -- the qmsforms.toml that init writes ---------------------------------------------------------

_SETTING = re.compile(r'^# ((?:\[[^\]]+\](?:\s+#.*)?)|(?:"?[\w.-]+"? = .*))$')


def _uncommented(text: str) -> str:
    """The file with every commented-out setting and table switched on."""
    out = []
    for line in text.splitlines():
        found = _SETTING.match(line)
        out.append(found.group(1) if found else line)
    return "\n".join(out) + "\n"


def test_init_writes_every_setting(ws: Workspace, tmp_path: Path) -> None:
    text = (ws.root / CONFIG_NAME).read_text(encoding="utf-8")
    for model in (Company, Defaults, DocumentControl, Scoring, LimitSettings, IntakeSettings,
                  TickSettings, LedgerSettings, SiteSettings, PathSettings):
        for name in model.model_fields:
            assert re.search(rf"(?m)^#? ?{name}\b|\b{name} ", text), (model.__name__, name)
    for section in ("[forms.satisfaction-report]", "[forms.complaint-report]", "[limits]",
                    "[intake]", "[scoring]", "[ledger]", "[site]", "[site.key_scope]",
                    "[paths]"):
        assert section in text
    assert load_config(ws.root / CONFIG_NAME).company.name_zh  # read as written
    switched = tmp_path / "all.toml"
    switched.write_text(_uncommented(text), encoding="utf-8")
    config = load_config(switched)
    defaults = Config()
    assert config.limits == defaults.limits
    assert config.intake == defaults.intake
    assert config.defaults == defaults.defaults
    assert config.paths == defaults.paths and config.site.id == "NB"
    assert config.scoring.monitoring == defaults.scoring.monitoring
    for report in ("satisfaction-report", "complaint-report", "8d-report"):
        assert config.control(report) == defaults.control(report)
