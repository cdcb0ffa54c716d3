"""A year of satisfaction records written straight into a workspace's ledger, for benchmarks.

`fill_ledger` gives each of N customers twelve monthly monitoring sheets and one returned
survey, as if every sheet had been issued from the workspace, filled and taken in by the
intake — without the workbooks, so thousands of customers fill in seconds. Each record is
built the way `qmsforms.intake.pipeline` builds one: the form values go through the form's
model (``model_validate`` then ``model_dump(mode="json")``, as the validator does), the scores
come from `qmsforms.scoring.score_form`, and the row carries the natural key, customer and
period the pipeline sets. Every seventh customer is an automotive customer, mapped to the
``automotive-qdo`` policy in the workspace's ``qmsforms.toml``.

The values are drawn from ``random.Random(seed)``: each customer has its own risk of
deductions, so monthly totals, bands, consecutive-deduction and below-target alerts vary.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from qmsforms.config import CONFIG_NAME
from qmsforms.intake import Ledger
from qmsforms.intake.ledger import FileRow, RecordRow
from qmsforms.intake.ledger.schema import INSERT_ISSUED
from qmsforms.registry import FormDef
from qmsforms.scoring import score_form
from qmsforms.workspace import Workspace

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

MONITORING = "satisfaction-monitoring"
SURVEY = "satisfaction-survey"
AUTOMOTIVE_POLICY = "automotive-qdo"
AUTOMOTIVE_EVERY = 7
"""Customers 7, 14, 21 … (1-based) are automotive customers."""

_CITIES = ("华东", "苏州", "宁波", "无锡", "常州", "嘉兴", "合肥", "青岛", "佛山", "东莞", "天津",
           "重庆", "成都", "武汉", "长春", "温州")
_TRADES = ("精密机械", "电子科技", "五金制品", "电器", "塑胶制品", "智能装备", "工业自动化",
           "汽车配件", "新能源", "家居用品")
_AUTO_TRADES = ("汽车零部件", "底盘系统", "车身系统", "汽车电子", "动力总成")
_ASSESSORS = ("吴刚", "李娜", "陈晓东", "周敏", "王磊")
_SALES = ("张伟", "刘洋", "赵静", "孙强")
_POSITIONS = ("采购经理", "质量经理", "SQE", "供应链主管", "Purchasing manager")
_SUGGESTIONS = ("希望进一步缩短交货周期。", "包装标识请按我司新版要求执行。",
                "Please send the inspection reports with every batch.",
                "售后响应速度有待提高。", "价格希望更有竞争力。")

_QUALITY = ("q_partial_return", "q_full_return", "q_concession", "q_handling_delay",
            "q_disruption_hold", "q_disruption_line_stop", "q_notice_rectify",
            "q_notice_suspend", "q_excess_freight")
_QUALITY_WEIGHTS = (30, 4, 20, 15, 6, 2, 8, 1, 10)
_DELIVERY = ("d_delay_notified", "d_delay_unnotified", "d_delay_complaint",
             "d_delay_line_stop", "d_packaging", "d_notice_rectify", "d_notice_suspend",
             "d_excess_freight")
_DELIVERY_WEIGHTS = (30, 10, 8, 2, 25, 5, 1, 8)
_OTHER = ("o_concession", "o_fine", "o_late_reply", "o_excess_freight", "o_recall", "o_other")
_OTHER_WEIGHTS = (30, 5, 30, 15, 1, 20)


@dataclass(frozen=True)
class Customer:
    """One generated customer: its name, whether it is automotive, and how troubled it is."""

    name: str
    automotive: bool
    risk: float
    """Chance per month of a deduction event in each category (0.02–0.6)."""
    mood: float
    """Survey answers centre on this level (about 2.5–5)."""
    ppm_target: int


def customer_name(index: int, automotive: bool) -> str:
    """A realistic, unique customer name for customer ``index`` (0-based)."""
    trades = _AUTO_TRADES if automotive else _TRADES
    city = _CITIES[index % len(_CITIES)]
    trade = trades[(index // len(_CITIES)) % len(trades)]
    return f"{city}{trade}有限公司 {index + 1:05d}"


def make_customers(count: int, rng: random.Random) -> list[Customer]:
    """``count`` customers; every `AUTOMOTIVE_EVERY`-th is automotive."""
    out = []
    for i in range(count):
        automotive = (i + 1) % AUTOMOTIVE_EVERY == 0
        out.append(Customer(
            name=customer_name(i, automotive), automotive=automotive,
            risk=min(0.6, 0.02 + rng.expovariate(1 / 0.12)),
            mood=min(5.0, max(2.5, rng.gauss(4.2, 0.6))),
            ppm_target=rng.choice((50, 100, 150, 200, 300))))
    return out


def map_automotive(ws: Workspace, names: list[str]) -> None:
    """Map ``names`` to the automotive policy in ``qmsforms.toml`` (``[scoring.customers]``).

    The workspace's cached config and policies are dropped so ``ws`` scores by the new map.
    Raises ValueError when the config already has a ``[scoring.customers]`` table (appending a
    second one would make the file invalid).
    """
    if not names:
        return
    path = ws.root / CONFIG_NAME
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    scoring = tomllib.loads(text).get("scoring", {})
    if "customers" in scoring:
        raise ValueError(f"{path} already maps customers to policies; fill a fresh workspace")
    lines = ["", "# benchmarks.ledger_fill: automotive customers", "[scoring.customers]"]
    lines += [f"{json.dumps(n, ensure_ascii=False)} = \"{AUTOMOTIVE_POLICY}\"" for n in names]
    with path.open("a", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    for cached in ("config", "policies"):
        ws.__dict__.pop(cached, None)


def _pick(rng: random.Random, names: tuple[str, ...], weights: tuple[int, ...],
          risk: float) -> dict[str, int]:
    """Event counts of one category for one month: usually none, sometimes one or two."""
    counts: dict[str, int] = {}
    while rng.random() < risk and len(counts) < 3:
        name = rng.choices(names, weights)[0]
        counts[name] = counts.get(name, 0) + 1
    return counts


def monitoring_values(c: Customer, year: int, month: int,
                      rng: random.Random) -> dict[str, Any]:
    """The values an assessor enters on one customer's monthly sheet."""
    values: dict[str, Any] = {"customer": c.name, "month": f"{year}-{month:02d}",
                              "assessor": rng.choice(_ASSESSORS)}
    if rng.random() < 0.3:
        values["customer_address"] = f"{c.name[:2]}市经济开发区 {rng.randint(1, 999)} 号"
    if c.automotive:
        values.update(_pick(rng, ("a_late_delivery",), (1,), c.risk))
        values.update(_pick(rng, ("a_batch_reject",), (1,), c.risk / 2))
        values.update(_pick(rng, _OTHER, _OTHER_WEIGHTS, c.risk))
        if rng.random() < 0.9:  # the customer reported its PPM this month
            spread = rng.uniform(0.4, 1.0 + 2 * c.risk)
            values["ppm_actual"] = max(0, round(c.ppm_target * spread))
            values["ppm_target"] = c.ppm_target
        if rng.random() < 0.1:
            values["scorecard_pct"] = str(rng.randint(75, 100))
    else:
        values.update(_pick(rng, _QUALITY, _QUALITY_WEIGHTS, c.risk))
        values.update(_pick(rng, _DELIVERY, _DELIVERY_WEIGHTS, c.risk))
        rate = 100 - rng.expovariate(1 / (2 + 20 * c.risk))
        values["performance_rate"] = f"{max(60.0, rate):.1f}"
        if rng.random() < 0.25:
            values["scorecard_pct"] = str(rng.randint(70, 100))
    if rng.random() < 0.05:
        values["remarks"] = "本月客户来访审核。Customer audit this month."
    return values


def survey_values(c: Customer, form: FormDef, year: int, rng: random.Random) -> dict[str, Any]:
    """The answers a customer returns on the year's satisfaction survey."""
    values: dict[str, Any] = {
        "customer": c.name, "period": str(year), "respondent": rng.choice(("王", "李", "张"))
        + rng.choice(("先生", "女士")), "position": rng.choice(_POSITIONS),
        "phone": f"0{rng.randint(10, 999)}-{rng.randint(1000000, 99999999)}",
        "survey_date": f"{year}-12-{rng.randint(1, 20):02d}",
        "sales_rep": rng.choice(_SALES)}
    assert form.questionnaire is not None
    for q in form.questionnaire.question_codes:
        if q == "price" and rng.random() < 0.15:
            continue  # left blank: some customers do not rate the price
        values[q] = min(5, max(1, round(rng.gauss(c.mood, 0.7))))
    if rng.random() < 0.3:
        values["suggestions"] = rng.choice(_SUGGESTIONS)
    return values


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class _Rows:
    """Builds ledger rows the way the intake pipeline does."""

    def __init__(self, ws: Workspace, rng: random.Random) -> None:
        self.ws = ws
        self.rng = rng

    def record(self, form: FormDef, values: dict[str, Any],
               taken: datetime, source: str) -> tuple[RecordRow, FileRow]:
        """Validate, score and wrap one form's values as a record and its file outcome."""
        data = form.model.model_validate(values).model_dump(mode="json")
        scores, issues = score_form(form, data, self.ws)
        errors = [i for i in issues if i.severity == "error"]
        if errors or scores is None:
            raise ValueError(f"{form.id} {values.get('customer')}: not scored: {errors}")
        canonical = json.dumps({"form": form.id, "data": data}, sort_keys=True,
                               ensure_ascii=False)
        sha = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        received = _stamp(taken)
        processed = _stamp(taken + timedelta(seconds=self.rng.randint(1, 5)))
        record_id = f"R{processed[:10].replace('-', '')}-{sha[:10]}"
        instance = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        row = RecordRow(
            record_id=record_id, form=form.id, revision=form.revision, instance_id=instance,
            sha256=sha, natural_key={k: data.get(k) for k in form.natural_key}, data=data,
            scores=scores, source_name=source, received_at=received, processed_at=processed,
            path=f"records/{form.id}/{record_id}.json", customer=data.get("customer"),
            period=data.get("period") or data.get("month"))
        claim = f"{taken:%Y%m%dT%H%M%SZ}-{self.rng.getrandbits(48):012x}"
        file = FileRow(claim, source, sha, self.rng.randint(18_000, 32_000), received,
                       processed, "record", row.path, record_id, form.id)
        return row, file


def fill_ledger(ws: Workspace, customers: int, year: int, seed: int = 0) -> int:
    """Fill the ledger of ``ws`` with a year of satisfaction records; returns how many.

    Each of ``customers`` customers gets twelve ``satisfaction-monitoring`` records (one per
    month of ``year``) and one ``satisfaction-survey`` record for the year, each with the
    file outcome and the issued blank the intake and ``qmsforms new`` would have recorded.
    All rows go in one transaction. Every seventh customer is mapped to ``automotive-qdo``
    in ``qmsforms.toml`` first (the workspace must not map customers already).
    """
    rng = random.Random(seed)
    people = make_customers(customers, rng)
    map_automotive(ws, [c.name for c in people if c.automotive])
    monitoring = ws.registry.get(MONITORING)
    survey = ws.registry.get(SURVEY)
    rows = _Rows(ws, rng)
    records: list[tuple[RecordRow, FileRow]] = []
    issued: list[tuple[str, str, str, str, str, str]] = []
    for c in people:
        stem = c.name.replace(" ", "_")
        for month in range(1, 13):
            values = monitoring_values(c, year, month, rng)
            first = datetime(year + month // 12, month % 12 + 1, 1, 8)
            taken = first + timedelta(days=rng.randint(0, 6), minutes=rng.randint(0, 600))
            records.append(rows.record(monitoring, values, taken,
                                       f"{stem} {year}-{month:02d}.xlsx"))
        taken = datetime(year, 12, 21, 9) + timedelta(days=rng.randint(0, 30),
                                                      minutes=rng.randint(0, 480))
        records.append(rows.record(survey, survey_values(c, survey, year, rng), taken,
                                   f"满意度调查 {stem}.xlsx"))
    for row, _file in records:
        issued_at = _stamp(datetime.strptime(row.received_at, "%Y-%m-%dT%H:%M:%SZ")
                           - timedelta(days=rng.randint(10, 40)))
        folder = "monitoring" if row.form == MONITORING else "surveys"
        issued.append((row.instance_id or "", row.form, row.revision, issued_at,
                       row.customer or "", f"outbox/{folder}/{row.source_name}", None))
    with Ledger(ws.state_dir / "ledger.sqlite") as ledger, ledger.transaction() as db:
        # the statement of Ledger.add_issued, inside this one transaction
        db.executemany(INSERT_ISSUED, issued)
        for row, file in records:
            ledger.add_record(db, row)
            ledger.add_file(db, file)
    return len(records)
