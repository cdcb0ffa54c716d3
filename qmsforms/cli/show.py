"""How results look in a terminal: a validation report, scores, a year, an intake outcome."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .options import pad

if TYPE_CHECKING:
    from ..intake import Outcome
    from ..issues import Report
    from ..scoring import YearSummary


def echo_report(report: Report) -> None:
    """One line for the file, two (Chinese, English) for each issue."""
    mark = "OK " if report.valid else "BAD"
    form = f"{report.form} rev {report.revision}" if report.form else "unidentified"
    click.echo(f"{mark} {report.path}  [{form}]")
    for issue in report.issues:
        where = "!".join(p for p in (issue.sheet, issue.cell) if p) or "-"
        click.echo(f"    {issue.severity:<7} {issue.code:<20} {where:<18} {issue.message_zh}")
        click.echo(f"    {'':<7} {'':<20} {'':<18} {issue.message_en}")


def echo_scores(report: Report) -> None:
    """The scores of a valid survey or monitoring sheet, item by item."""
    scores = report.scores
    if scores is None:
        return
    band = scores.get("band") or {}
    if scores["kind"] == "survey":
        if scores["score"] is None:
            click.echo(f"    survey incomplete: {scores['answered']} of {scores['questions']} "
                       f"answered (needs {scores['min_answered']})")
            return
        click.echo(f"    score {scores['score']:>5}  {band.get('zh')} {band.get('en')}  "
                   f"answered {scores['answered']}/{scores['questions']}  "
                   f"CSAT top-2-box {scores['csat_pct']} %")
        for item in scores["items"]:
            if item["answer"] is None:
                continue
            mark = "!" if item["complaint"] else "*" if item["flagged"] else " "
            label = pad(f"{item['zh']} {item['en']}", 40)
            click.echo(f"    {mark} {label} {item['pct']:>6} %  "
                       f"weight {item['weight']:g}")
        return
    click.echo(f"    total {scores['total']:>5}  {band.get('zh')} {band.get('en')}  "
               f"[{scores['policy']['id']}]" + ("  (customer's own value)"
                                                if scores["source"] == "customer" else ""))
    for cat in scores["categories"]:
        label = pad(f"{cat['zh']} {cat['en']}", 50)
        click.echo(f"      {label} {cat['score']:>5} / {cat['points']:g}")


def echo_year(summary: YearSummary) -> None:
    """The annual score per customer, the company months and the alerts of a year."""
    click.echo(f"Year {summary.year}")
    for a in summary.annual:
        state = "complete" if a.complete else f"incomplete ({len(a.months)}/{a.months_expected})"
        survey = "-" if a.survey_score is None else a.survey_score
        mean = "-" if a.monthly_mean is None else a.monthly_mean
        click.echo(f"  {a.customer}: annual {a.score} {a.band.zh} {a.band.en}  monthly mean "
                   f"{mean}  survey {survey}  [{a.policy.id}, {state}]")
    if summary.company:
        click.echo("  company: " + "  ".join(f"{m} {v}" for m, v in summary.company.items()))
    for alert in summary.alerts:
        click.echo(f"  ALERT {alert.message_zh}")
        click.echo(f"        {alert.message_en}")


def echo_outcome(outcome: Outcome) -> None:
    """The one line of an intake outcome (REC, REJ or DUP)."""
    click.echo(outcome_line(outcome))


def outcome_line(outcome: Outcome) -> str:
    """``REC name -> outbox/location`` with what else is worth knowing."""
    mark = {"record": "REC", "rejected": "REJ", "duplicate": "DUP"}[outcome.outcome]
    extra = ""
    if outcome.supersedes:
        extra = f"  (revision of {outcome.supersedes})"
    elif outcome.codes:
        extra = "  " + " ".join(outcome.codes)
    if outcome.notes:
        extra += "  [" + ", ".join(_note(n) for n in outcome.notes) + "]"
    return f"{mark} {outcome.name} -> outbox/{outcome.location}{extra}"


def _note(note: str) -> str:
    """A record's note as the operator reads it (the stable keyword stays in the JSON)."""
    kind, _, detail = note.partition(":")
    if kind == "unknown_customer":
        return "客户不在主数据中 unknown customer"
    if kind == "low_answers":
        return f"1–2 分按投诉处理 answers at 1–2, handle as complaint: {detail}"
    return note
