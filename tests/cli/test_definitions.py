"""A broken questionnaire or policy file, as a quality engineer makes one (a typo such as
``wieght``): only what depends on it stops, files of that form are rejected with the reason,
``doctor``, ``status`` and ``forms`` name the file, line and key."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from qmsforms.cli import cli
from qmsforms.workspace import Workspace

from ..conftest import FillFn


def run(ws: Workspace, *args: str) -> Result:
    """Invoke the CLI on workspace ``ws``."""
    return CliRunner().invoke(cli, ["--root", str(ws.root), *args])


def typo(path: Path, old: str, new: str) -> int:
    """Replace the first ``old`` in the file by ``new``; the 1-based line it was on."""
    text = path.read_text(encoding="utf-8")
    at = text.index(old)
    path.write_text(text[:at] + new + text[at + len(old):], encoding="utf-8")
    return text.count("\n", 0, at) + 1


def survey_toml(ws: Workspace) -> Path:
    return ws.schemas_dir / "questionnaires" / "satisfaction-survey.toml"


def test_a_typo_in_one_questionnaire_rejects_only_that_form(ws: Workspace,
                                                            make_filled: FillFn) -> None:
    shipping = make_filled("shipping-list")
    survey = make_filled("satisfaction-survey")
    monitoring = make_filled("satisfaction-monitoring")
    line = typo(survey_toml(ws), "weight", "wieght")
    for path in (shipping, survey, monitoring):
        shutil.copyfile(path, ws.inbox / path.name)

    result = run(ws, "process", "--settle", "0.05", "--json")
    out = json.loads(result.stdout)
    assert result.exit_code == 1 and out["blocked"] is None
    outcomes = {o["name"]: o for o in out["outcomes"]}
    assert outcomes[shipping.name]["outcome"] == "record"
    assert outcomes[monitoring.name]["outcome"] == "record"
    assert outcomes[survey.name]["outcome"] == "rejected"
    assert outcomes[survey.name]["codes"] == ["FORM_DEFINITION_BROKEN"]
    report = json.loads((ws.outbox / outcomes[survey.name]["location"]
                         ).with_suffix("").with_suffix(".report.json").read_text("utf-8"))
    (issue,) = report["issues"]
    assert f"satisfaction-survey.toml:{line}" in issue["message_en"]
    assert "wieght" in issue["message_en"] and "wieght" in issue["message_zh"]
    assert [p.name for p in ws.inbox.iterdir() if p.name != ".gitkeep"] == [".qmsforms-work"]
    assert not any((ws.inbox / ".qmsforms-work").iterdir())

    forms = run(ws, "forms", "--json")
    assert forms.exit_code == 0
    rows = {r["id"]: r for r in json.loads(forms.stdout)}
    assert rows["satisfaction-survey"]["broken"] is True
    (problem,) = rows["satisfaction-survey"]["problems"]
    assert (problem["file"], problem["line"], problem["key"]) == (
        "satisfaction-survey.toml", line, "questions[1].wieght")
    assert "broken" not in rows["shipping-list"]
    assert "satisfaction-survey" in run(ws, "forms").stdout

    doctor = run(ws, "doctor", "--json")
    assert doctor.exit_code == 1
    found = json.loads(doctor.stdout)
    assert [(p["file"], p["line"], p["key"]) for p in found["problems"]] == [
        ("satisfaction-survey.toml", line, "questions[1].wieght")]
    assert found["disabled"] == {"satisfaction-survey": ["satisfaction-survey.toml"]}
    assert run(ws, "doctor").exit_code == 1

    status = run(ws, "status", "--json")
    assert status.exit_code == 1
    (entry,) = json.loads(status.stdout)["definitions"]
    assert entry["state"] == "definition_broken" and entry["needs_person"]
    assert entry["name"] == f"satisfaction-survey.toml:{line} questions[1].wieght"

    blank = run(ws, "new", "satisfaction-survey", "-o", str(ws.root / "s.xlsx"))
    assert blank.exit_code == 1 and "wieght" in blank.output
    assert "Traceback" not in blank.output


def test_the_fixed_definition_takes_the_resent_file(ws: Workspace, make_filled: FillFn) -> None:
    survey = make_filled("satisfaction-survey")
    toml = survey_toml(ws)
    good = toml.read_text(encoding="utf-8")
    typo(toml, "weight", "wieght")
    shutil.copyfile(survey, ws.inbox / "s.xlsx")
    assert run(ws, "process", "--settle", "0.05").exit_code == 1
    toml.write_text(good, encoding="utf-8")
    assert run(ws, "doctor").exit_code == 0
    shutil.copyfile(survey, ws.inbox / "s.xlsx")
    result = run(ws, "process", "--settle", "0.05", "--json")
    assert result.exit_code == 0
    assert [o["outcome"] for o in json.loads(result.stdout)["outcomes"]] == ["record"]


def test_a_questionnaire_that_is_not_toml_names_its_line(ws: Workspace) -> None:
    line = typo(survey_toml(ws), 'title_en = "', 'title_en = ')
    doctor = run(ws, "doctor", "--json")
    (problem,) = json.loads(doctor.stdout)["problems"]
    assert doctor.exit_code == 1
    assert (problem["file"], problem["line"], problem["target"]) == (
        "satisfaction-survey.toml", line, "satisfaction-survey")


def test_a_broken_policy_rejects_the_forms_it_scores(ws: Workspace, make_filled: FillFn) -> None:
    shipping = make_filled("shipping-list")
    survey = make_filled("satisfaction-survey")
    monitoring = make_filled("satisfaction-monitoring")
    line = typo(ws.schemas_dir / "policies" / "monitoring-000.toml", "decimals = 1",
                'decimals = "one"')
    for path in (shipping, survey, monitoring):
        shutil.copyfile(path, ws.inbox / path.name)
    result = run(ws, "process", "--settle", "0.05", "--json")
    out: dict[str, Any] = json.loads(result.stdout)
    outcomes = {o["name"]: o for o in out["outcomes"]}
    assert result.exit_code == 1
    assert outcomes[shipping.name]["outcome"] == outcomes[survey.name]["outcome"] == "record"
    assert outcomes[monitoring.name]["codes"] == ["FORM_DEFINITION_BROKEN"]

    doctor = json.loads(run(ws, "doctor", "--json").stdout)
    assert [(p["kind"], p["file"], p["line"], p["key"]) for p in doctor["problems"]] == [
        ("policy", "monitoring-000.toml", line, "decimals")]
    assert doctor["disabled"] == {"satisfaction-monitoring": ["monitoring-000.toml"]}
    report = run(ws, "report", "satisfaction", "--year", "2026", "-o",
                 str(ws.root / "r.xlsx"))
    assert report.exit_code == 1 and "monitoring-000.toml" in report.output
    assert "Traceback" not in report.output


def test_doctor_on_a_sound_workspace(ws: Workspace) -> None:
    result = run(ws, "doctor", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"ok": True, "problems": [], "disabled": {}}


def test_a_pattern_that_does_not_compile_disables_only_its_form(ws: Workspace,
                                                                make_filled: FillFn) -> None:
    shipping = make_filled("shipping-list")
    line = typo(survey_toml(ws), "pattern = '^", "pattern = '[")
    shutil.copyfile(shipping, ws.inbox / "ship.xlsx")
    result = run(ws, "process", "--settle", "0.05", "--json")
    assert result.exit_code == 0
    assert [o["outcome"] for o in json.loads(result.stdout)["outcomes"]] == ["record"]
    (problem,) = json.loads(run(ws, "doctor", "--json").stdout)["problems"]
    assert (problem["line"], problem["key"]) == (line, "header[3].pattern")
