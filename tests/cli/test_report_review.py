"""``qmsforms report review`` and ``qmsforms report actions`` through click: the KPI lines and
the workbook written, --half, --json as the library's data, --pdf beside the workbook."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from openpyxl import load_workbook

from qmsforms.cli import cli
from qmsforms.reports.review import review_pack
from qmsforms.workspace import Workspace

from .. import year as yr
from ..reports import review_year as ry


@pytest.fixture(scope="module")
def two_years(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return ry.shared_review_year(tmp_path_factory.mktemp("review"))


def _run(ws: Workspace, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--root", str(ws.root), "report", *args])


def test_review_prints_the_kpis_and_writes_the_workbook(two_years: Workspace,
                                                       tmp_path: Path) -> None:
    target = tmp_path / "out" / "review.xlsx"
    result = _run(two_years, "review", "--year", str(ry.YEAR), "-o", str(target))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len([line for line in lines if " target " in line]) == 6
    ppm = next(line for line in lines if "PPM" in line and " target " in line)
    assert "1100.0" in ppm and "≤ 200" in ppm
    assert lines[-1] == f"written: {target}"
    rows = yr.named_rows(load_workbook(target), "scorecard")
    assert len(rows[0]) == 5 + 12


def test_review_of_a_half_year_goes_to_the_outbox(two_years: Workspace) -> None:
    result = _run(two_years, "review", "--year", str(ry.YEAR), "--half", "h2")
    assert result.exit_code == 0, result.output
    path = two_years.outbox / "reports" / f"review-{ry.YEAR}-H2.xlsx"
    assert path.is_file()
    rows = yr.named_rows(load_workbook(path), "scorecard")
    assert rows[0][5] == "7月 Jul" and len(rows[0]) == 5 + 6


def test_review_json_is_the_library_data(two_years: Workspace) -> None:
    result = _run(two_years, "review", "--year", str(ry.YEAR), "--half", "H1", "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    expected = review_pack(two_years, ry.YEAR, "H1").to_dict()
    data.pop("as_of"), expected.pop("as_of")
    assert data == expected
    assert data["half"] == "H1" and len(data["months"]) == 6
    assert not (two_years.outbox / "reports" / f"review-{ry.YEAR}-H1.xlsx").exists()


def test_review_refuses_what_it_cannot_do(two_years: Workspace, tmp_path: Path) -> None:
    assert _run(two_years, "review", "--year", "2026", "--half", "H3").exit_code == 2
    assert _run(two_years, "review", "--year", "2026", "-o", str(tmp_path / "x.pdf")
                ).exit_code == 2
    assert _run(two_years, "review").exit_code == 2  # --year is required


@pytest.mark.libreoffice
def test_review_pdf_beside_the_workbook(two_years: Workspace, tmp_path: Path,
                                        soffice: Any) -> None:
    target = tmp_path / "pack" / "review.xlsx"
    result = _run(two_years, "review", "--year", str(ry.YEAR), "-o", str(target), "--pdf")
    assert result.exit_code == 0, result.output
    pdf = target.with_suffix(".pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    assert result.stdout.splitlines()[-1] == f"written: {pdf}"


def test_actions_writes_the_register(two_years: Workspace, tmp_path: Path) -> None:
    target = tmp_path / "register.xlsx"
    result = _run(two_years, "actions", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == f"written: {target}"
    assert yr.named_rows(load_workbook(target), "register_counts")[1][0] == 0
    listed = _run(two_years, "actions", "--json")
    assert listed.exit_code == 0 and json.loads(listed.stdout) == []
