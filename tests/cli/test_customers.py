"""The customer master (SPEC §9, issue 15 §3): one customer is one customer.

The user's case: "上汽大众" and "上汽大众汽车有限公司" became two customers in the annual
report. Here the customer list is imported as the master, forms come back through the real
intake under several spellings, and the records, the status and the reports see one customer.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from openpyxl import Workbook, load_workbook

from qmsforms.cli import cli
from qmsforms.customers import Customer, CustomerMaster, MatchSettings, current_master
from qmsforms.intake import open_ledger
from qmsforms.reports import complaint_report, satisfaction_report
from qmsforms.workspace import Workspace

from ..conftest import FillFn

HEADER = ["客户编号", "客户名称", "别名", "汽车客户", "评价政策", "年订单额(万元)"]
LIST = [
    ["C01", "上汽大众汽车有限公司", "上汽大众; SVW", "是", None, 120],
    ["C02", "宁波均胜电子股份有限公司", "均胜", "否", None, 30],
    ["C03", "Example Hardware Co., Ltd.", None, "否", "monitoring-000", 5],
]


def write_list(path: Path, rows: list[list[Any]], header: list[str] = HEADER) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "客户一览表"
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def run(ws: Workspace, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--root", str(ws.root), *args])


def imported(ws: Workspace, tmp_path: Path, rows: list[list[Any]] = LIST) -> dict[str, Any]:
    result = run(ws, "customers", "import", str(write_list(tmp_path / "客户一览表.xlsx", rows)),
                 "--json")
    assert result.exit_code == 0, result.output
    found: dict[str, Any] = json.loads(result.output)
    return found


def process(ws: Workspace, *files: tuple[Path, str]) -> Result:
    for path, name in files:
        shutil.copyfile(path, ws.inbox / name)
    return run(ws, "process", "--settle", "0.05")


def record_of(ws: Workspace, name: str) -> dict[str, Any]:
    with open_ledger(ws) as ledger:
        row = next(r for r in ledger.records() if r.source_name == name)
    data: dict[str, Any] = json.loads((ws.outbox / row.path).read_text(encoding="utf-8"))
    return data


# -- the master and its matching ---------------------------------------------------------------


def test_names_match_exactly_by_code_alias_then_normalised() -> None:
    master = CustomerMaster(
        (Customer(code="C01", name="上汽大众汽车有限公司", aliases=("上汽大众",)),
         Customer(code="C03", name="Example Hardware Co., Ltd.")),
        MatchSettings(suffixes=("有限公司", "股份有限公司", "co ltd", "ltd", "co")))
    assert master.match("上汽大众汽车有限公司").by == "name"  # type: ignore[union-attr]
    assert master.match("SVW Shanghai", "c01").by == "code"  # type: ignore[union-attr]
    assert master.match("上汽大众").by == "alias"  # type: ignore[union-attr]
    for spelling in ("上汽大众汽车 有限公司", "上汽大众汽车", "上汽大众汽车股份有限公司",
                     "ＥＸＡＭＰＬＥ　Ｈａｒｄｗａｒｅ", "Example Hardware Co.,Ltd",
                     "example hardware CO. LTD."):
        found = master.match(spelling)
        assert found is not None and found.by == "normalised", spelling
    assert master.match("上汽通用") is None and master.match("") is None


def test_import_list_and_export_round_trip(ws: Workspace, tmp_path: Path) -> None:
    found = imported(ws, tmp_path)
    assert found["saved"] and found["customers"] == 3
    assert found["added"] == [r[1] for r in LIST] and found["issues"] == []
    listed = json.loads(run(ws, "customers", "--json").output)["customers"]
    assert [(c["code"], c["name"], c["aliases"], c["automotive"], c["policy"], c["order_value"])
            for c in listed] == [
        ("C01", "上汽大众汽车有限公司", ["上汽大众", "SVW"], True, None, 1200000),
        ("C02", "宁波均胜电子股份有限公司", ["均胜"], False, None, 300000),
        ("C03", "Example Hardware Co., Ltd.", [], False, "monitoring-000", 50000)]
    assert "C01" in run(ws, "customers").output

    out = tmp_path / "export" / "客户一览表.xlsx"
    result = run(ws, "customers", "export", "-o", str(out))
    assert result.exit_code == 0, result.output
    sheet = load_workbook(out).active
    assert sheet is not None
    assert [c.value for c in sheet[1]] == [
        "客户编号\nCustomer code", "客户名称\nCustomer", "别名\nAliases", "汽车客户\nAutomotive",
        "评价政策\nPolicy", "年订单额(元)\nAnnual order value"]
    assert [c.value for c in sheet[2]][:5] == ["C01", "上汽大众汽车有限公司", "上汽大众; SVW",
                                               "是", None]
    assert int(sheet.page_setup.paperSize or 0) == 9  # A4
    assert sheet.print_title_rows == "$1:$1" and sheet.print_area == "'客户一览表'!$A$1:$F$4"
    again = json.loads(run(ws, "customers", "import", str(out), "--json").output)
    assert again["saved"] and again["added"] == again["removed"] == again["renamed"] == []
    assert again["new_aliases"] == again["changed"] == []
    assert json.loads(run(ws, "customers", "--json").output)["customers"] == listed


def test_bad_rows_are_issues_at_their_cells_and_nothing_is_saved(
        ws: Workspace, tmp_path: Path) -> None:
    imported(ws, tmp_path)
    before = (ws.root / "customers.toml").read_bytes()
    rows = [*LIST,
            ["C04", "长城汽车", None, "也许", None, 10],          # row 5: automotive not yes/no
            ["C05", "上汽大众", None, "否", None, 10],            # row 6: another's alias
            ["C01", "吉利汽车", None, "是", None, 10],            # row 7: another's code
            ["C08", "比亚迪", None, "是", "monitoring-999", 10],  # row 8: unknown policy
            [None, None, "孤儿别名", None, None, None]]           # row 9: no name
    path = write_list(tmp_path / "bad.xlsx", rows)
    result = run(ws, "customers", "import", str(path), "--json")
    assert result.exit_code == 1
    found = json.loads(result.output)
    assert not found["saved"]
    assert sorted((i["code"], i["cell"]) for i in found["issues"]) == [
        ("CUSTOMER_CONFLICT", "A7"), ("CUSTOMER_CONFLICT", "B6"), ("NOT_A_BOOL", "D5"),
        ("NOT_A_CHOICE", "E8"), ("REQUIRED", "B9")]
    assert all(i["sheet"] == "客户一览表" and i["message_zh"] and i["message_en"]
               for i in found["issues"])
    assert (ws.root / "customers.toml").read_bytes() == before
    text = run(ws, "customers", "import", str(path))
    assert text.exit_code == 1 and "客户一览表!D5" in text.output


def test_a_rename_keeps_the_old_name_as_an_alias(ws: Workspace, tmp_path: Path) -> None:
    imported(ws, tmp_path)
    rows = [["C01", "上汽大众汽车(安亭)有限公司", "上汽大众; SVW", "是", None, 120],
            ["C02", "宁波均胜电子股份有限公司", "均胜; Joyson", "是", None, 30],
            ["C09", "长城汽车股份有限公司", None, "是", None, 60]]
    found = imported(ws, tmp_path, rows)
    assert found["added"] == ["长城汽车股份有限公司"]
    assert found["renamed"] == [["上汽大众汽车有限公司", "上汽大众汽车(安亭)有限公司"]]
    assert ["上汽大众汽车(安亭)有限公司", "上汽大众汽车有限公司"] in found["new_aliases"]
    assert ["宁波均胜电子股份有限公司", "Joyson"] in found["new_aliases"]
    assert found["changed"] == ["宁波均胜电子股份有限公司"]
    assert found["removed"] == ["Example Hardware Co., Ltd."]
    match = current_master(ws).match("上汽大众汽车有限公司")
    assert match is not None and match.customer.code == "C01"
    again = imported(ws, tmp_path, rows)  # the list itself never named the old name
    assert again["dropped_aliases"] == [["上汽大众汽车(安亭)有限公司", "上汽大众汽车有限公司"]]
    exported = tmp_path / "export.xlsx"
    run(ws, "customers", "export", "-o", str(exported))
    printed = run(ws, "customers", "import", str(exported))
    assert printed.exit_code == 0 and "no changes" in printed.output


def test_a_list_without_a_customer_column_is_refused(ws: Workspace, tmp_path: Path) -> None:
    path = write_list(tmp_path / "x.xlsx", [["a", 1]], header=["Name only?", "Value?"][1:])
    result = run(ws, "customers", "import", str(path))
    assert result.exit_code == 1 and "Customer" in result.output
    assert not (ws.root / "customers.toml").exists()
    assert run(ws, "customers", "export", "-o", str(tmp_path / "x.csv")).exit_code == 2


# -- returned forms meet the master ------------------------------------------------------------


def test_returned_forms_are_matched_and_an_unknown_customer_is_a_warning(
        ws: Workspace, tmp_path: Path, make_filled: FillFn) -> None:
    imported(ws, tmp_path)
    short = make_filled("complaint", customer="上汽大众", ticket_no="TS-1")
    spaced = make_filled("complaint", customer="上汽大众汽车 有限公司", ticket_no="TS-2")
    unknown = make_filled("complaint", customer="上汽通用", ticket_no="TS-3")

    checked = run(ws, "validate", str(unknown), "--json")
    assert checked.exit_code == 0  # a warning, the file is valid
    (report,) = json.loads(checked.output)
    assert [(i["code"], i["severity"], i["field"], i["cell"]) for i in report["issues"]] == [
        ("UNKNOWN_CUSTOMER", "warning", "customer", _cell(unknown, "customer"))]

    result = process(ws, (short, "short.xlsx"), (spaced, "spaced.xlsx"),
                     (unknown, "unknown.xlsx"))
    assert result.exit_code == 0, result.output
    lines = {line.split()[1]: line for line in result.output.splitlines()
             if line.startswith("REC")}
    assert "unknown customer" in lines["unknown.xlsx"]
    assert "unknown customer" not in lines["short.xlsx"]
    assert record_of(ws, "short.xlsx")["data"]["master_customer"] == "C01"
    assert record_of(ws, "spaced.xlsx")["data"]["master_customer"] == "C01"
    odd = record_of(ws, "unknown.xlsx")
    assert "master_customer" not in odd["data"] and "unknown_customer" in odd["notes"]

    status = run(ws, "status", "--json")
    assert status.exit_code == 1
    follow = [(e["name"], e["state"]) for e in json.loads(status.output)["customers"]]
    assert follow == [("上汽通用", "unknown_customer")]
    # the quality engineer adds the alias and imports again: nothing left to follow up
    imported(ws, tmp_path, [[*LIST[0][:2], "上汽大众; SVW; 上汽通用", *LIST[0][3:]], *LIST[1:]])
    status = run(ws, "status", "--json")
    assert status.exit_code == 0 and json.loads(status.output)["customers"] == []


def _cell(path: Path, name: str) -> str:
    """The (first) cell a field's defined name covers in a filled form (``C7``)."""
    target = load_workbook(path).defined_names[name].attr_text
    return target.split("!")[-1].replace("$", "").split(":")[0]


def test_without_a_master_nothing_is_matched(ws: Workspace, make_filled: FillFn) -> None:
    (report,) = json.loads(run(ws, "validate", str(make_filled("complaint")), "--json").output)
    assert report["issues"] == [] and "master_customer" not in report["data"]


def test_reports_group_by_master_customer_and_the_master_chooses_the_policy(
        ws: Workspace, tmp_path: Path, make_filled: FillFn) -> None:
    config = ws.root / "qmsforms.toml"
    config.write_text(config.read_text(encoding="utf-8") + '\n[scoring.customers]\n'
                      '"上汽大众汽车有限公司" = "monitoring-000"\n"均胜" = "automotive-qdo"\n',
                      encoding="utf-8")
    imported(ws, tmp_path)
    ws = Workspace(ws.root)  # a new command reads the configuration again
    files = [(make_filled("satisfaction-monitoring", customer=name, month=month), f"m{n}.xlsx")
             for n, (name, month) in enumerate([
                 ("上汽大众", "2026-01"), ("上汽大众汽车有限公司", "2026-02"),
                 ("上汽大众汽车 有限公司", "2026-03"), ("均胜", "2026-01")])]
    files += [(make_filled("complaint", customer=name, ticket_no=f"TS-{n}"), f"c{n}.xlsx")
              for n, name in enumerate(["上汽大众", "SVW", "宁波均胜电子股份有限公司"])]
    result = process(ws, *files)
    assert result.exit_code == 0, result.output
    # the master says automotive, so QDO, though qmsforms.toml says monitoring-000; the master
    # says nothing about 均胜's policy (not automotive), so the configuration's entry applies,
    # under whichever name of that customer it is written
    assert record_of(ws, "m1.xlsx")["scores"]["policy"]["id"] == "automotive-qdo"
    assert record_of(ws, "m2.xlsx")["scores"]["policy"]["id"] == "automotive-qdo"
    assert record_of(ws, "m3.xlsx")["scores"]["policy"]["id"] == "automotive-qdo"

    report = satisfaction_report(ws, 2026)
    rows = {c.customer: c for c in report.customers}
    assert sorted(rows) == ["上汽大众汽车有限公司", "宁波均胜电子股份有限公司"]
    assert sorted(rows["上汽大众汽车有限公司"].monthly) == ["2026-01", "2026-02", "2026-03"]
    assert rows["上汽大众汽车有限公司"].annual.policy.id == "automotive-qdo"
    assert rows["宁波均胜电子股份有限公司"].annual.policy.id == "automotive-qdo"
    assert [(c["customer"], c["code"]) for c in report.to_dict()["customers"]] == [
        ("上汽大众汽车有限公司", "C01"), ("宁波均胜电子股份有限公司", "C02")]
    out = tmp_path / "satisfaction.xlsx"
    assert run(ws, "report", "satisfaction", "--year", "2026", "-o", str(out)).exit_code == 0
    names = {c.value for row in load_workbook(out).worksheets[1].iter_rows() for c in row}
    assert "上汽大众汽车有限公司" in names and "上汽大众" not in names

    complaints = complaint_report(ws, 2026)
    assert [(c.customer, c.count) for c in complaints.top_customers] == [
        ("上汽大众汽车有限公司", 2), ("宁波均胜电子股份有限公司", 1)]


def test_answers_at_1_or_2_are_said_and_listed_until_a_complaint_handles_them(
        ws: Workspace, tmp_path: Path, make_filled: FillFn) -> None:
    imported(ws, tmp_path)
    low = make_filled("satisfaction-survey", customer="上汽大众", product_quality=2, delivery=1)
    fine = make_filled("satisfaction-survey", customer="均胜")
    result = process(ws, (low, "low.xlsx"), (fine, "fine.xlsx"))
    assert result.exit_code == 0, result.output
    lines = {line.split()[1]: line for line in result.output.splitlines()
             if line.startswith("REC")}
    assert "answers at 1–2" in lines["low.xlsx"] and "product_quality,delivery" in \
        lines["low.xlsx"]
    assert "answers at 1–2" not in lines["fine.xlsx"]
    record = record_of(ws, "low.xlsx")
    assert "low_answers:product_quality,delivery" in record["notes"]

    status = run(ws, "status", "--json")
    assert status.exit_code == 1
    (entry,) = json.loads(status.output)["customers"]
    assert (entry["name"], entry["state"], entry["needs_person"]) == (
        record["record_id"], "low_answers", True)
    assert "上汽大众汽车有限公司" in entry["detail"]

    # a complaint of another customer does not handle it; one of this customer, under
    # another of its names, does
    other = make_filled("complaint", customer="均胜", ticket_no="TS-9",
                        received_at="2099-01-01 09:00", filed_at="2099-01-01 10:00")
    assert process(ws, (other, "other.xlsx")).exit_code == 0
    assert run(ws, "status", "--json").exit_code == 1
    mine = make_filled("complaint", customer="SVW", ticket_no="TS-10",
                       received_at="2099-01-01 09:00", filed_at="2099-01-01 10:00")
    assert process(ws, (mine, "mine.xlsx")).exit_code == 0
    status = run(ws, "status", "--json")
    assert status.exit_code == 0 and json.loads(status.output)["customers"] == []


def test_a_word_form_is_matched_too(ws: Workspace, tmp_path: Path) -> None:
    from qmsforms.blanks import issue_blank
    from qmsforms.word.fill import fill_word

    from ..conftest import VALID

    imported(ws, tmp_path)
    files = []
    for name in ("SVW", "上汽通用"):
        path = issue_blank(ws, "complaint", tmp_path / f"{name}.docx")
        fill_word(path, {**VALID["complaint"], "customer": name, "ticket_no": name}, path)
        files.append(str(path))
    known, unknown = json.loads(run(ws, "validate", *files, "--json").output)
    assert known["valid"] and known["issues"] == []
    assert known["data"]["master_customer"] == "C01"
    assert unknown["valid"]
    (issue,) = unknown["issues"]
    assert (issue["code"], issue["field"]) == ("UNKNOWN_CUSTOMER", "customer")
    assert issue["cell"]  # the customer's content control


def test_a_broken_master_stops_no_intake_and_status_says_so(
        ws: Workspace, tmp_path: Path, make_filled: FillFn) -> None:
    imported(ws, tmp_path)
    (ws.root / "customers.toml").write_text('[[customer]]\nname = "A"\nwieght = 1\n',
                                            encoding="utf-8")
    result = process(ws, (make_filled("complaint", customer="上汽大众"), "a.xlsx"))
    assert result.exit_code == 0 and result.output.startswith("REC a.xlsx")
    status = run(ws, "status", "--json")
    assert status.exit_code == 1
    (entry,) = json.loads(status.output)["customers"]
    assert (entry["name"], entry["state"]) == ("customers.toml", "customer_master_broken")
    assert "wieght" in entry["detail"]
    listed = run(ws, "customers")
    assert listed.exit_code == 1 and "customers.toml" in listed.output


def test_the_watch_line_says_the_notes_the_way_process_does() -> None:
    from qmsforms.cli.show import outcome_line
    from qmsforms.intake import Outcome

    line = outcome_line(Outcome("c", "a.xlsx", "record", "records/x.json", "satisfaction-survey",
                                "R1", notes=("unknown_customer", "low_answers:delivery")))
    assert "unknown customer" in line and "answers at 1–2, handle as complaint: delivery" in line
