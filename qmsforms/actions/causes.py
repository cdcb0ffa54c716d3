"""The causes the records show, scope by scope: what should have an action right now.

A *scope* is what one record's causes are reconciled within (`qmsforms.actions.raising`):

- ``customer:<C>`` — a customer's monitoring sheets (and surveys, which count toward its
  year): categories losing points N months running and months below target (reusing
  `qmsforms.scoring.annual.monthly_alerts`), and complete years below target
  (`annual_scores`);
- ``survey:<form>:<C>:<period>`` — one returned questionnaire: items at level 1–2, a score
  below the action policy's target, a comment or suggestion written in;
- ``complaint:<ticket>`` — one quality-related complaint ticket.

Customers are named as the master names them (``C`` above), so one customer is one scope
whatever spelling a sheet came back with. A record filed per site (`qmsforms.site`) is read
with its own site's records only: its scopes and cause keys end in ``#site=<id>``, so two
plants monitoring one customer each keep their own streaks and actions. Only the latest
revision of each record counts, and no voided one (`RecordSource`).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..customers.master import CustomerMaster, CustomerMasterError
from ..customers.records import MASTER_KEY, current_master
from ..scoring.annual import MonthlyResult, SurveyResult, annual_scores, monthly_alerts
from ..scoring.complaint import eight_d_required
from ..site import SITE_KEY
from .policy import ActionPolicy

if TYPE_CHECKING:
    from ..intake.ledger import LedgerStore, RecordRow
    from ..scoring.policy import MonitoringPolicy
    from ..workspace import Workspace

log = logging.getLogger(__name__)

MONITORING_FORM = "satisfaction-monitoring"
COMPLAINT_FORM = "complaint"


class RecordSource(ABC):
    """The records the causes are read from: the latest revision of each, none voided."""

    @abstractmethod
    def latest_of(self, forms: Iterable[str],
                  customer: Callable[[str], bool] | None = None) -> list[RecordRow]:
        """The latest records of ``forms``, oldest first; with ``customer``, only (at least)
        those whose customer as typed it accepts."""

    @abstractmethod
    def latest(self, form: str, natural_key: dict[str, Any]) -> RecordRow | None:
        """The latest record of ``form`` with this natural key (None: none, or voided)."""


class LedgerRecords(RecordSource):
    """A ledger's records (inside a transaction, its uncommitted rows included)."""

    def __init__(self, ledger: LedgerStore[Any]) -> None:
        self.ledger = ledger

    def latest_of(self, forms: Iterable[str],
                  customer: Callable[[str], bool] | None = None) -> list[RecordRow]:
        """The latest records of ``forms``, oldest first; with ``customer``, only the records
        of the names it accepts are read (one customer's sheets, not the whole ledger's)."""
        rows: list[RecordRow] = []
        for form in forms:
            if customer is None:
                rows += self.ledger.records(form=form)
                continue
            names = [n for n in self.ledger.customers(form) if customer(n)]
            rows += [r for n in names for r in self.ledger.records(form=form, customer=n)
                     if r.customer == n]
        return sorted({r.record_id: r for r in rows}.values(),
                      key=lambda r: (r.processed_at, r.record_id))

    def latest(self, form: str, natural_key: dict[str, Any]) -> RecordRow | None:
        """The latest record of ``form`` with this natural key."""
        return self.ledger.latest(form, natural_key)


@dataclass(frozen=True)
class Cause:
    """Something the records show that needs an action."""

    key: str
    scope: str
    source: str
    details: dict[str, Any]
    customer: str | None
    problem_zh: str
    problem_en: str
    record: RecordRow
    """The record that raises it: the newest received of those that show it (so the raising
    does not depend on the order records processed in one second were taken in)."""
    category: str | None = None
    due: date | None = None
    """A due date the cause brings itself (a complaint's); else the policy's working days."""


@dataclass
class Context:
    """What reading causes needs from a workspace: the action policy, the customer master,
    the monitoring policy of a customer and the survey forms."""

    policy: ActionPolicy
    policy_for: Callable[[str], MonitoringPolicy]
    survey_forms: tuple[str, ...]
    master: CustomerMaster | None = None

    @classmethod
    def of(cls, workspace: Workspace, policy: ActionPolicy) -> Context:
        """The context of ``workspace`` under ``policy``."""
        try:
            master: CustomerMaster | None = current_master(workspace)
        except CustomerMasterError as exc:
            # `qmsforms status` reports the broken master (customer_master_broken)
            log.info("%s; actions name customers as returned", exc)
            master = None
        surveys = tuple(f.id for f in workspace.registry if f.questionnaire is not None)
        return cls(policy, workspace.policies.monitoring, surveys, master or None)

    def customer(self, row: RecordRow) -> str | None:
        """The record's customer as the master names it (as typed when unknown)."""
        name = row.data.get("customer")
        if not name:
            return None
        if self.master:
            return self.master.canonical(str(name), row.data.get(MASTER_KEY))
        return str(name)


def period_of(row: RecordRow) -> str:
    """A survey's period: its natural key without the customer (``2026``, a service ref)."""
    return ":".join(str(v) for k, v in row.natural_key.items()
                    if k not in ("customer", SITE_KEY))


SITE_MARK = "#site="
"""What ends the scope and cause keys of a record filed per site."""


def site_mark(row: RecordRow) -> str:
    """``#site=<id>`` for a record filed per site, else empty."""
    site = row.natural_key.get(SITE_KEY)
    return "" if site is None else f"{SITE_MARK}{site}"


def _same_site(site: str | None) -> Callable[[RecordRow], bool]:
    return lambda r: r.natural_key.get(SITE_KEY) == site


def scopes_of(row: RecordRow, ctx: Context) -> list[str]:
    """The scopes whose causes ``row`` can change."""
    customer = ctx.customer(row)
    kind = (row.scores or {}).get("kind")
    mark = site_mark(row)
    if row.form == MONITORING_FORM or kind == "monitoring":
        return [f"customer:{customer}{mark}"] if customer else []
    if row.form in ctx.survey_forms or kind == "survey":
        if not customer:
            return []
        scopes = [f"survey:{row.form}:{customer}:{period_of(row)}{mark}"]
        if row.data.get("period"):
            scopes.append(f"customer:{customer}{mark}")
        return scopes
    if row.form == COMPLAINT_FORM and row.data.get("ticket_no"):
        return [f"complaint:{row.data['ticket_no']}"]
    return []


def causes_of(scope: str, records: RecordSource, ctx: Context, trigger: RecordRow
              ) -> list[Cause]:
    """The causes of ``scope`` the records show now (``trigger``: the record, revised or
    voided, that the scope is read for)."""
    kind, _, rest = scope.partition(":")
    if kind == "customer":
        customer, marked, site = rest.partition(SITE_MARK)
        return _customer(customer, site if marked else None, records, ctx)
    if kind == "survey":
        return _survey(scope, records, ctx, trigger)
    if kind == "complaint":
        return _complaint(scope, rest, records, ctx)
    return []


def _customer(customer: str, site: str | None, records: RecordSource,
              ctx: Context) -> list[Cause]:
    mark = "" if site is None else f"{SITE_MARK}{site}"
    scope = f"customer:{customer}{mark}"
    here = _same_site(site)

    def named(name: str) -> bool:  # a name as typed that the master takes for this customer
        return (ctx.master.canonical(name) if ctx.master else name) == customer or \
            name == customer

    sheets = [r for r in records.latest_of([MONITORING_FORM], named)
              if r.scores and r.data.get("month") and ctx.customer(r) == customer and here(r)]
    if not sheets:  # no monitoring: no streak, no month, no year
        return []
    monthly = [MonthlyResult.from_dict(customer, str(r.data["month"]), r.scores or {})
               for r in sheets]
    by_month = {str(r.data["month"]): r for r in sheets}
    surveys = [SurveyResult(customer, str(r.data["period"]), Decimal(str(r.scores["score"])))
               for r in records.latest_of(ctx.survey_forms, named)
               if r.scores and r.scores.get("score") is not None and r.data.get("period")
               and ctx.customer(r) == customer and here(r)]
    policy = ctx.policy
    out: list[Cause] = []
    for alert in monthly_alerts(monthly, ctx.policy_for):
        months = list(alert.months)
        shown = [by_month[m] for m in months if m in by_month]
        records_of = [r.record_id for r in shown]
        if alert.kind == "consecutive_deduction" and policy.of("monitoring_streak"):
            out.append(Cause(
                f"monitoring_streak:{customer}:{alert.category}:{months[0]}{mark}", scope,
                "monitoring_streak",
                {"customer": customer, "category": alert.category,
                 "category_zh": alert.category_zh, "category_en": alert.category_en,
                 "months": months, "records": records_of},
                customer, alert.message_zh, alert.message_en, newest(shown),
                category=alert.category))
        elif alert.kind == "month_below_target" and policy.of("month_below_target"):
            out.append(Cause(
                f"month_below_target:{customer}:{months[0]}{mark}", scope,
                "month_below_target",
                {"customer": customer, "month": months[0], "total": _num(alert.value),
                 "target": _num(alert.target), "records": records_of},
                customer, alert.message_zh, alert.message_en, newest(shown)))
    if policy.of("year_below_target"):
        for year in sorted({r.month[:4] for r in monthly}):
            for score in annual_scores(monthly, surveys, int(year), ctx.policy_for):
                if not (score.complete and score.below_target):
                    continue
                in_year = [by_month[m] for m in sorted(by_month) if m.startswith(f"{year}-")]
                out.append(Cause(
                    f"year_below_target:{customer}:{year}{mark}", scope, "year_below_target",
                    {"customer": customer, "year": int(year), "score": float(score.score),
                     "target": float(score.target),
                     "records": [r.record_id for r in in_year]},
                    customer,
                    f"{customer}:{year} 年度满意度 {score.score} 低于目标 {score.target},"
                    "应在管理评审中提出改善措施。",
                    f"{customer}: the {year} annual satisfaction {score.score} is below the "
                    f"target {score.target}; raise improvement actions in the management "
                    "review.", newest(in_year)))
    return out


def newest(rows: Iterable[RecordRow]) -> RecordRow:
    """The newest received of ``rows`` (ties: the greater record id)."""
    return max(rows, key=lambda r: (r.received_at, r.record_id))


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _survey(scope: str, records: RecordSource, ctx: Context, trigger: RecordRow
            ) -> list[Cause]:
    row = records.latest(trigger.form, trigger.natural_key)
    if row is None or not row.scores:
        return []
    customer = ctx.customer(row) or ""
    period = period_of(row)
    mark = site_mark(row)
    base = {"customer": customer, "form": row.form, "period": period,
            "record": row.record_id}
    policy = ctx.policy
    out: list[Cause] = []
    if policy.of("survey_item"):
        for item in row.scores.get("items") or []:
            if not item.get("complaint"):
                continue
            code = str(item["code"])
            out.append(Cause(
                f"survey_item:{row.form}:{customer}:{period}:{code}{mark}", scope,
                "survey_item",
                {**base, "item": code, "item_zh": item.get("zh"), "item_en": item.get("en"),
                 "answer": item.get("answer"), "pct": item.get("pct")},
                customer,
                f"{customer}:{period} 满意度调查「{item.get('zh')}」评价为 {item.get('answer')} 级"
                f"({item.get('pct')}%),按客户投诉处理。",
                f"{customer}: the {period} survey rated \"{item.get('en')}\" at level "
                f"{item.get('answer')} ({item.get('pct')} %); handle it as a complaint.", row))
    score = row.scores.get("score")
    if (policy.of("survey_below_target") and score is not None
            and Decimal(str(score)) < policy.survey_target):
        out.append(Cause(
            f"survey_below_target:{row.form}:{customer}:{period}{mark}", scope,
            "survey_below_target", {**base, "score": score,
                                    "target": float(policy.survey_target)},
            customer,
            f"{customer}:{period} 满意度调查得分 {score} 低于目标 {policy.survey_target},"
            "相关部门采取改进措施,质量部统筹。",
            f"{customer}: the {period} survey score {score} is below the target "
            f"{policy.survey_target}; the departments concerned act, quality oversees.", row))
    comments = {f: str(row.data[f]).strip() for f in policy.comment_fields
                if row.data.get(f) is not None and str(row.data[f]).strip()}
    if policy.of("suggestion") and comments:
        text = " / ".join(comments.values())
        out.append(Cause(
            f"suggestion:{row.form}:{customer}:{period}{mark}", scope, "suggestion",
            {**base, "fields": sorted(comments), "text": text}, customer,
            f"{customer}:{period} 客户意见和建议:{text}(登记客户建议项记录跟进表并答复)",
            f"{customer}: {period} customer suggestion: {text} (record it in the "
            "suggestion follow-up log and answer)", row))
    return out


def _complaint(scope: str, ticket: str, records: RecordSource, ctx: Context) -> list[Cause]:
    row = records.latest(COMPLAINT_FORM, {"ticket_no": ticket})
    if row is None or not ctx.policy.of("complaint") or not eight_d_required(row.data):
        return []
    customer = ctx.customer(row)
    due = row.data.get("due_date")
    text = str(row.data.get("description") or "").strip()
    return [Cause(
        f"complaint:{ticket}", scope, "complaint",
        {"ticket_no": ticket, "customer": customer, "category": row.data.get("category"),
         "record": row.record_id},
        customer, f"客户投诉 {ticket}(质量问题,需 8D 报告):{text}",
        f"Customer complaint {ticket} (quality-related, an 8D report is required): {text}",
        row, due=date.fromisoformat(str(due)[:10]) if due else None)]
