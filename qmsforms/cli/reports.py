"""``qmsforms report``, ``qmsforms survey`` and ``qmsforms monitoring``: the click layer over
`qmsforms.reports` and `qmsforms.campaign`.

``--json`` prints exactly the library's data (and writes no workbook unless
``-o`` asks for one).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..issues import UsageError
from .options import (
    interactive,
    json_option,
    lang_option,
    pad,
    print_json,
    site_option,
    workspace_of,
    year_option,
)

if TYPE_CHECKING:
    from ..campaign import CampaignPlan, CampaignStatus
    from ..reports import ComplaintReport, SatisfactionReport
    from ..reports.review import ReviewPack

REASONS = {"automotive": "汽车客户 automotive", "all": "全部 all", "sampled": "抽样 sampled",
           "minimum": "补足 10 家 minimum"}
STATES = {"returned": "已回收 returned", "issued": "待回收 waiting",
          "needs_correction": "退回待更正 returned, needs correction",
          "not_issued": "未发放 not issued"}


def _xlsx(path: Path | None) -> Path | None:
    if path is not None and path.suffix.lower() != ".xlsx":
        raise UsageError(f"{path.name}: a report is written as .xlsx")
    return path


# -- report ------------------------------------------------------------------------------------


@click.group()
def report() -> None:
    """Reports for the management review, as .xlsx with charts (A4 landscape)."""


@report.command("satisfaction")
@year_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the workbook (default outbox/reports/satisfaction-YYYY.xlsx).")
@site_option
@json_option
@click.pass_context
def report_satisfaction(ctx: click.Context, year: int, output: Path | None, site: str | None,
                        as_json: bool) -> None:
    """顾客满意度汇总表: customers × months, annual scores, company trend, items, alerts."""
    from ..reports import satisfaction_report, save_satisfaction

    ws = workspace_of(ctx)
    _xlsx(output)
    if as_json and output is None:
        print_json(satisfaction_report(ws, year, site=site).to_dict())
        return
    data, path = save_satisfaction(ws, year, output, site=site)
    if as_json:
        print_json(data.to_dict())
        return
    _echo_satisfaction(data)
    click.echo(f"written: {path}")


def _echo_satisfaction(data: SatisfactionReport) -> None:
    figures = data.key_figures()
    click.echo(f"顾客满意度汇总表 {data.year}: {figures['customers']} customers, company mean "
               f"{figures['company_mean'] if figures['company_mean'] is not None else '-'}, "
               f"{figures['surveys']} surveys, {figures['alerts']} alerts")
    for c in data.customers:
        a = c.annual
        state = "" if a.complete else f"  incomplete {len(a.months)}/{a.months_expected}"
        click.echo(f"  {pad(a.customer, 32)} {a.score:>6}  {a.band.zh} {a.band.en}  "
                   f"[{a.policy.id}]{state}")
    for alert in data.alerts:
        click.echo(f"  ALERT {alert.message_zh}")


@report.command("complaints")
@year_option
@click.option("--month", type=click.IntRange(1, 12), default=None,
              help="One month of the year (compared with the month before).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the workbook (default outbox/reports/complaints-PERIOD.xlsx).")
@site_option
@json_option
@click.pass_context
def report_complaints(ctx: click.Context, year: int, month: int | None, output: Path | None,
                      site: str | None, as_json: bool) -> None:
    """客户投诉汇总分析表: by category and month, Pareto of causes, SLA, open 8Ds."""
    from ..reports import complaint_report, save_complaints

    ws = workspace_of(ctx)
    _xlsx(output)
    if as_json and output is None:
        print_json(complaint_report(ws, year, month, site=site).to_dict())
        return
    data, path = save_complaints(ws, year, month, output, site=site)
    if as_json:
        print_json(data.to_dict())
        return
    _echo_complaints(data)
    click.echo(f"written: {path}")


def _echo_complaints(data: ComplaintReport) -> None:
    f = data.key_figures()
    sla = "-" if f["sla_rate"] is None else f"{f['sla_rate']} %"
    click.echo(f"客户投诉汇总分析表 {data.period}: {f['complaints']} complaints "
               f"({f['change']:+d} against {data.previous_period}), filed in time {sla}, "
               f"{f['open_8d']} open 8Ds")
    for row in data.compare:
        if row.current or row.previous:
            click.echo(f"  {pad(f'{row.zh} {row.en}', 30)} {row.current:>4} "
                       f"(previous {row.previous}, {row.change:+d})")


@report.command("delivery")
@year_option
@site_option
@json_option
@click.pass_context
def report_delivery(ctx: click.Context, year: int, site: str | None, as_json: bool) -> None:
    """On-time delivery per customer and month, from shipping lists with both dates."""
    from ..intake import open_ledger
    from ..reports import delivery_performance

    ws = workspace_of(ctx)
    with open_ledger(ws, site=site) as ledger:
        months = delivery_performance(ledger.records("shipping-list"), year)
    if as_json:
        print_json([m.to_dict() for m in months])
        return
    for m in months:
        late = f"  late: {', '.join(m.late_lists)}" if m.late_lists else ""
        click.echo(f"{pad(m.customer, 32)} {m.month}  {m.on_time}/{m.deliveries} on time  "
                   f"{m.rate:>5} %{late}")
    click.echo(f"{len(months)} customer-months with deliveries due in {year}")


@report.command("review")
@year_option
@click.option("--half", type=click.Choice(["H1", "H2"], case_sensitive=False), default=None,
              help="One half of the year: H1 = January–June, H2 = July–December (the "
                   "half-yearly summary). 半年:H1 上半年,H2 下半年。")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the workbook (default outbox/reports/review-PERIOD.xlsx).")
@click.option("--pdf", "as_pdf", is_flag=True,
              help="Also print the workbook to PDF beside it (needs LibreOffice).")
@site_option
@json_option
@click.pass_context
def report_review(ctx: click.Context, year: int, half: str | None, output: Path | None,
                  as_pdf: bool, site: str | None, as_json: bool) -> None:
    """管理评审输入: KPI scorecard against targets, satisfaction, complaints, actions."""
    from ..reports.review import review_pack
    from ..reports.review_xlsx import save_review

    ws = workspace_of(ctx)
    _xlsx(output)
    half = half.upper() if half else None
    if as_json and output is None and not as_pdf:
        print_json(review_pack(ws, year, half, site=site).to_dict())
        return
    data, path = save_review(ws, year, half, output, site=site)
    pdf = _pdf(path) if as_pdf else None
    if as_json:
        print_json(data.to_dict())
        return
    _echo_review(data)
    click.echo(f"written: {path}")
    if pdf is not None:
        click.echo(f"written: {pdf}")


def _pdf(path: Path) -> Path:
    from ..pdf import to_pdf

    return to_pdf(path)


def _echo_review(data: ReviewPack) -> None:
    click.echo(f"管理评审输入 {data.period} ({data.months[0]} – {data.months[-1]}), "
               f"targets {data.policy}")
    for k in data.kpis:
        value = "-" if k.value is None else f"{k.value} {k.unit}"
        state = "no data" if k.met is None else "met" if k.met else "NOT MET"
        target = f"{'≥' if k.comparison == 'min' else '≤'} {k.target.normalize():f}"
        click.echo(f"  {pad(f'{k.zh} {k.en}', 44)} {pad(value, 14)} target {pad(target, 8)} "
                   f"{state}")
    a = data.actions.total
    click.echo(f"  actions: {a.raised} raised, {a.open} open, {a.overdue} overdue, "
               f"{a.verified} verified, {a.closed} closed")


@report.command("actions")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the register (default outbox/reports/actions-DATE.xlsx).")
@site_option
@json_option
@click.pass_context
def report_actions(ctx: click.Context, output: Path | None, site: str | None,
                   as_json: bool) -> None:
    """纠正/预防措施登记表: every action one row, overdue ones highlighted."""
    from ..reports.actions_xlsx import save_action_register
    from ..reports.review import actions_for_report

    ws = workspace_of(ctx)
    _xlsx(output)
    if as_json and output is None:
        print_json(actions_for_report(ws, site))
        return
    actions, path = save_action_register(ws, output, site=site)
    if as_json:
        print_json(actions)
        return
    overdue = sum(bool(a.get("overdue")) for a in actions)
    click.echo(f"纠正/预防措施登记表: {len(actions)} actions, {overdue} overdue")
    click.echo(f"written: {path}")


# -- survey campaign ---------------------------------------------------------------------------


@click.group()
def survey() -> None:
    """The annual survey campaign: who to ask, their blanks, who answered."""


def _echo_plan(plan: CampaignPlan) -> None:
    click.echo(f"survey campaign {plan.year}: {len(plan.chosen)} of {len(plan.choices)} "
               f"customers (seed {plan.seed}, list {plan.source})")
    for t in plan.tiers:
        click.echo(f"  {pad(f'{t.zh} {t.en}', 40)} {t.customers:>3} customers, "
                   f"{t.rate:g} % → {t.quota}, chosen {t.chosen}")
    for c in plan.chosen:
        code = f"{c.code} " if c.code else ""
        click.echo(f"  + {pad(code + c.customer, 40)} {c.order_value:>14,.0f}  "
                   f"{REASONS.get(c.reason or '', c.reason)}")


@survey.command("plan")
@click.option("--customers", "customer_list", default=None,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The customer list workbook (客户一览表, .xlsx; its columns are listed "
                   "above). Default: the customer master imported with `qmsforms customers "
                   "import`. 客户一览表,默认为已导入的客户主数据。")
@year_option
@click.option("--seed", type=int, default=None,
              help="Seed of the random sample (default: the year); stored in the plan.")
@click.option("--force", is_flag=True, help="Plan again although the year is planned.")
@json_option
@click.pass_context
def survey_plan(ctx: click.Context, customer_list: Path | None, year: int, seed: int | None,
                force: bool, as_json: bool) -> None:
    """Choose who to survey this year from the customer list, by the sampling rule.

    The customers come from --customers, a customer list workbook, or by default from the
    customer master (`qmsforms customers import`). A list is read from the first sheet with
    a header row (within its first 10 rows) naming a customer and an annual order value
    column; one row per customer:

    \b
      客户名称 / Customer             required, each customer once
      年订单额 / Annual order value   required; 元, or 万元 when the header says 万
      客户编号 / Customer code        optional
      汽车客户 / Automotive           optional; 是/否, yes/no, √ (blank: no)
      别名 / Aliases                  optional; other names the customer goes by
      评价政策 / Policy               optional; the customer's monitoring policy

    The rule comes from the survey scoring policy (default: order value over 500,000 all,
    200,000–500,000 half, under 200,000 one in ten, automotive customers always, at least
    10 in all). The plan is saved in the outbox; `survey issue` issues the blanks.

    \b
    按抽样规则从客户一览表(--customers,默认为已导入的客户主数据)中选出本年度要调查的
    客户。一览表的表头(前 10 行内)至少要有客户名称和年订单额两列,每行一个客户:
      客户名称        必填,每个客户只列一次
      年订单额        必填;单位为元,表头注明“万元”时按万元计
      客户编号        选填
      汽车客户        选填;是/否(空白为否)
      别名            选填;客户的其他名称
      评价政策        选填;该客户的监测评分政策
    抽样规则取自调查评分政策(默认:年订单额 50 万以上全部调查,20–50 万调查一半,
    20 万以下调查十分之一,汽车客户全部调查,总数至少 10 家)。
    """
    from ..campaign import plan_from_list, plan_path

    ws = workspace_of(ctx)
    plan = plan_from_list(ws, customer_list, year, seed=seed, replace_existing=force)
    if as_json:
        print_json(plan.to_dict())
        return
    _echo_plan(plan)
    click.echo(f"plan: {plan_path(ws, year)}")


@survey.command("issue")
@click.option("--year", type=click.IntRange(2000, 2100), default=None,
              help="The campaign (default: the latest planned).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the blanks (default outbox/campaigns/YYYY/blanks).")
@lang_option
@json_option
@click.pass_context
def survey_issue(ctx: click.Context, year: int | None, out_dir: Path | None,
                 lang: str | None, as_json: bool) -> None:
    """Issue one personalised blank per chosen customer and record each instance id."""
    from ..campaign import issue_campaign, load_plan

    ws = workspace_of(ctx)
    plan = load_plan(ws, year)
    todo = len(plan.chosen) - len({i.customer for i in plan.issued})
    if interactive() and not as_json and todo:
        with click.progressbar(length=todo, label="issuing", show_pos=True) as bar:
            plan, issued = issue_campaign(ws, plan.year, out_dir=out_dir, lang=lang,
                                          progress=lambda _b: bar.update(1))
    else:
        plan, issued = issue_campaign(ws, plan.year, out_dir=out_dir, lang=lang)
    if as_json:
        print_json([b.to_dict() for b in issued])
        return
    for blank in issued:
        click.echo(f"{blank.path}")
    click.echo(f"{len(issued)} blanks issued now; {len(plan.issued)} of {len(plan.chosen)} "
               "chosen customers have theirs")


def _echo_status(status: CampaignStatus) -> None:
    rate = "-" if status.rate is None else f"{status.rate} %"
    met = "target met" if status.target_met else f"below target, {status.still_needed} more " \
        "needed"
    click.echo(f"survey campaign {status.year}: {status.returned} of {status.issued} returned "
               f"({rate}; target {status.target:g} %, {met})")
    for c in status.customers:
        score = f"  score {c.score}" if c.score is not None else ""
        click.echo(f"  {pad(STATES[c.state], 38)} {pad(c.customer, 34)}{score}")
        if c.state == "needs_correction":
            last = c.rejections[-1]
            click.echo(f"      {last.name} {last.at} [{' '.join(last.codes)}] -> "
                       f"outbox/{last.location}")
            click.echo(f"      {last.reason_zh}")
            click.echo(f"      {last.reason_en}")
    if status.chase:
        click.echo("chase 跟催: " + ", ".join(c.customer for c in status.chase))
    if status.to_correct:
        click.echo("to correct 待更正: " + ", ".join(c.customer for c in status.to_correct))
    for note in status.unexpected:
        click.echo(f"note: {note}")


@survey.command("status")
@click.option("--year", type=click.IntRange(2000, 2100), default=None,
              help="The campaign (default: the latest planned).")
@json_option
@click.pass_context
def survey_status(ctx: click.Context, year: int | None, as_json: bool) -> None:
    """Issued versus returned, the return rate against the target, and who to chase."""
    from ..campaign import campaign_status

    status = campaign_status(workspace_of(ctx), year)
    if as_json:
        print_json(status.to_dict())
        return
    _echo_status(status)


# -- monthly monitoring ------------------------------------------------------------------------


@click.group()
def monitoring() -> None:
    """Monthly satisfaction monitoring sheets, pre-filled from the ledger."""


@monitoring.command("issue")
@click.option("--month", required=True, metavar="YYYY-MM", help="The month assessed.")
@click.option("--customer", "customers", multiple=True,
              help="Only this customer (repeatable; default: every customer with a delivery "
                   "due that month).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the sheets (default outbox/monitoring/YYYY-MM).")
@lang_option
@json_option
@click.pass_context
def monitoring_issue(ctx: click.Context, month: str, customers: tuple[str, ...],
                     out_dir: Path | None, lang: str | None, as_json: bool) -> None:
    """Issue a monitoring sheet per customer with on-time delivery from shipping lists."""
    from .. import normalize as nz
    from ..reports import issue_monitoring_sheets

    try:
        canonical = nz.to_month(month)
    except nz.NormalizeError:
        canonical = None
    if canonical is None:
        raise click.BadParameter(f"{month!r} is not a month like 2026-11", param_hint="--month")
    sheets = issue_monitoring_sheets(workspace_of(ctx), canonical, customers or None, out_dir,
                                     lang=lang)
    if as_json:
        print_json([s.to_dict() for s in sheets])
        return
    for sheet in sheets:
        rate = sheet.values.get("performance_rate") or sheet.values.get("a_late_delivery")
        shown = f"  (delivery: {rate})" if rate else "  (no deliveries due)"
        click.echo(f"{sheet.path}{shown}")
    click.echo(f"{len(sheets)} monitoring sheets issued for {canonical}")
