"""The catalogue of every problem qmsforms reports: a `Code` per problem, with its severity and
its message in Chinese and English (``str.format`` templates filled by `qmsforms.issues.Issue`).

Kept apart from `qmsforms.issues` (which re-exports `Code`) so the catalogue can grow without
the module that builds issues and reports growing with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Detail:
    """One catalogue entry: severity and message templates (``str.format`` with context)."""

    severity: Severity
    zh: str
    en: str


class Code(Enum):
    """Every problem qmsforms can report. The member name is the stable code."""

    # -- the file itself ----------------------------------------------------------------
    FILE_NOT_FOUND = Detail("error", "找不到文件 {path}。", "File {path} does not exist.")
    EMPTY_FILE = Detail("error", "文件是空的(0 字节),请重新保存后再提交。",
                        "The file is empty (0 bytes); save it again and resubmit.")
    NOT_AN_OFFICE_FILE = Detail(
        "error", "这不是 Excel/Word 文件(扩展名被改过?),请用 Excel 或 Word 另存为 .xlsx/.docx。",
        "This is not an Excel/Word file (renamed?); save it from Excel or Word as .xlsx/.docx.")
    CORRUPT_FILE = Detail("error", "文件已损坏或不完整:{detail}。请重新保存或重新复制。",
                          "The file is damaged or incomplete: {detail}. Save or copy it again.")
    LEGACY_XLS = Detail("error", "这是旧版 .xls 格式,请在 Excel 中另存为 .xlsx 后再提交。",
                        "This is an old .xls workbook; save it as .xlsx in Excel and resubmit.")
    ENCRYPTED = Detail("error", "文件设置了打开密码,请取消密码后再提交。",
                       "The file is password-protected; remove the password and resubmit.")
    MACRO_FILE = Detail("error", "不接受含宏的文件(.xlsm/.docm),宏不会被执行。请另存为 .xlsx。",
                        "Macro-enabled files (.xlsm/.docm) are not accepted and macros are never "
                        "run; save as .xlsx.")
    WRONG_FILE_KIND = Detail("error", "文件内容是 {found},与扩展名 {suffix} 不符。",
                             "The file holds {found} content but is named {suffix}.")
    ZIP_BOMB = Detail("error", "文件解压后过大({detail}),已拒收。",
                      "The file expands to an unsafe size ({detail}) and was refused.")
    UNSAFE_XML = Detail("error", "文件含有不安全的 XML 内容({detail}),已拒收。",
                        "The file contains unsafe XML ({detail}) and was refused.")
    ABSURD_DIMENSIONS = Detail(
        "error", "工作表 {sheet} 声明的范围 {detail} 过大,不像是一张表单。请在 Excel 中删除表单以外的内容,"
        "另存为一份干净的副本后再提交。",
        "Sheet {sheet} claims an absurd size ({detail}); not a form. Delete what lies outside "
        "the form in Excel, save a clean copy and resubmit.")
    CELL_OUT_OF_RANGE = Detail(
        "error", "工作表 {sheet} 中有位于 {value} 的单元格,超出了 Excel 工作表的范围(最多 1048576 行、"
        "16384 列,即到 XFD 列):文件不是由 Excel 正常保存的,或已损坏。请在 Excel 中打开,另存为一份干净的"
        "副本(或在新发放的空白表单中重新填写)后再提交。",
        "Sheet {sheet} has a cell at {value}, outside any Excel worksheet (at most 1,048,576 "
        "rows and 16,384 columns, up to column XFD): the file was not saved normally by Excel "
        "or is damaged. Open it in Excel and save a clean copy (or fill in a freshly issued "
        "blank), then resubmit.")
    SHEET_TOO_LARGE = Detail(
        "error", "工作表 {sheet} 使用的范围达到 {detail}(最远的单元格在 {value}),超过了读取上限 "
        "{limit_zh}。表单以外多半有误输入的单元格:请删除表单范围以外的内容,另存为一份干净的副本后再提交。",
        "Sheet {sheet} uses cells up to {detail} (the farthest at {value}), more than the "
        "{limit} that are read. There is probably a cell typed by mistake far outside the form: "
        "delete what lies outside the form, save a clean copy and resubmit.")
    UNREADABLE = Detail("error", "无法读取文件:{detail}。", "The file cannot be read: {detail}.")
    READ_TIMEOUT = Detail(
        "error", "读取此文件超过 {detail} 秒仍未完成,已尝试 {attempts} 次后退回。请在 Excel/Word 中打开,"
        "只保留表单内容另存为新文件后重新提交。",
        "Reading this file took longer than {detail} s, {attempts} attempt(s); it was "
        "refused. Open it in Excel/Word, save a clean copy of the form and resubmit.")
    READ_MEMORY = Detail(
        "error", "读取此文件需要的内存超过上限({detail}),已尝试 {attempts} 次后退回。请只保留表单内容另存为新文件后重新提交。",
        "Reading this file needs more memory than allowed ({detail}), {attempts} attempt(s); "
        "it was refused. Save a clean copy of the form and resubmit.")
    READER_CRASHED = Detail(
        "error", "读取此文件时读取程序异常终止({detail}),已尝试 {attempts} 次后退回。请另存为新文件后重新提交;"
        "如仍失败,请把文件交给质量部管理员。",
        "The reader stopped abnormally on this file ({detail}), {attempts} attempt(s); it "
        "was refused. Save it again as a new file and resubmit; if that fails, give the file "
        "to the qmsforms administrator.")
    PROCESSING_FAILED = Detail(
        "error", "处理此文件失败 {attempts} 次(最后一次:{detail}),已退回以免阻塞其他文件。请把文件交给质量部管理员。",
        "Processing this file failed {attempts} time(s) (last: {detail}); it was set aside "
        "so that it does not block other files. Give the file to the qmsforms administrator.")
    LINK_NOT_FOLLOWED = Detail(
        "error", "这是一个链接(快捷方式),不是文件本身;qmsforms 不会读取收件箱以外的文件。请把文件本身复制到收件箱。",
        "This is a link (shortcut), not the file itself; qmsforms never reads files outside "
        "the inbox. Copy the file itself into the inbox.")
    NOT_A_FILE = Detail(
        "error", "这不是普通文件({detail}),无法作为表单读取。请把表单文件本身复制到收件箱。",
        "This is not a regular file ({detail}) and cannot be read as a form. Copy the form "
        "file itself into the inbox.")

    # -- identity and template -------------------------------------------------------------
    NO_IDENTITY = Detail(
        "error", "文件中没有 qmsforms 表单标识,不是用 qmsforms 发放的受控表单。请使用发放的空白表单填写。",
        "The file carries no qmsforms form identity; it was not issued as a controlled "
        "form. Fill in an issued blank.")
    UNKNOWN_FORM = Detail("error", "未知的表单类型 {value}。", "Unknown form id {value}.")
    FORM_DEFINITION_BROKEN = Detail(
        "error", "表单 {form} 的定义文件有误,暂停接收此表单:{detail_zh}。请管理员修正(qmsforms doctor 列出问题)后重新提交。",
        "The definition of form {form} is broken, so the form is not accepted for now: "
        "{detail}. Once the administrator fixes it (qmsforms doctor lists it), resubmit.")
    UNKNOWN_REVISION = Detail("error", "表单 {form} 没有版本 {value}。",
                              "Form {form} has no revision {value}.")
    OBSOLETE_REVISION = Detail(
        "error", "表单 {form} 版本 {value} 已作废(自 {detail} 起),请使用现行版本 {current} 的空白表单。",
        "Form {form} revision {value} is obsolete (since {detail}); use a blank of the "
        "current revision {current}.")
    SUPERSEDED_REVISION = Detail(
        "warning", "表单 {form} 版本 {value} 已被 {current} 替代,宽限期至 {detail}。",
        "Form {form} revision {value} is superseded by {current}; accepted until {detail}.")
    TEMPLATE_ALTERED = Detail(
        "error", "表单结构被改动(字段名或区域与受控模板不一致),请使用未经改动的空白表单。",
        "The form's structure was altered (its named fields no longer match the controlled "
        "template); fill in an unaltered blank.")
    TEMPLATE_REVISION = Detail(
        "error", "模板是表单 {form} 的版本 {value},现行版本是 {current}。请用 qmsforms templates release {form} --revision {current} 发布新版本(保留模板样式并记录修订历史)。",
        "The template is revision {value} of form {form} but the current revision is {current}; release it with qmsforms templates release {form} --revision {current} (keeps the template's styling and records the revision history).")
    OUTSIDE_PRINT_AREA = Detail(
        "error", "{detail_zh}位于工作表 {sheet} 的 {cell},不在打印区域 {value} 内,打印时会缺失。请在 Excel 中重新设置打印区域(页面布局 > 打印区域)。",
        "{detail} at {cell} of sheet {sheet} lies outside the print area {value} and would not print; set the print area again in Excel (Page Layout > Print Area).")
    PAGE_SETUP = Detail(
        "error", "工作表/文档 {sheet} 的页面设置不对:{detail_zh}。受控表单按 A4 打印,宽度缩放为一页。",
        "The page setup of {sheet} is wrong: {detail}. A controlled form prints on A4, fitted to one page wide.")
    FIELD_NOT_BOUND = Detail("error", "模板中缺少字段 {field} 的定义名称。",
                             "The template has no defined name for field {field}.")
    FIELD_NAME_INVALID = Detail(
        "error", "字段 {field} 的定义名称指向 “{value}”,不是本工作簿中的有效单元格(行 1–1048576,列 A–XFD)。请使用未经改动的空白表单重新填写。",
        "The defined name for field {field} points at “{value}”, which is not a cell of this "
        "workbook (rows 1–1048576, columns A–XFD); fill in an unaltered blank.")
    NAME_DUPLICATED = Detail(
        "error", "名称 {value} 在工作簿中定义了不止一次(Excel 视之为损坏),无法确定字段 {field} 在哪个单元格。请使用未经改动的空白表单重新填写。",
        "The name {value} is defined more than once in the workbook (Excel treats this as "
        "damage), so the cell of field {field} is ambiguous; fill in an unaltered blank.")
    FIELD_SHAPE = Detail("error", "字段 {field} 的定义名称应覆盖 {detail}。",
                         "The defined name for field {field} should cover {detail}.")
    TABLE_NOT_FOUND = Detail("error", "模板中缺少名为 {field} 的 Excel 表格。",
                             "The template has no Excel table named {field}.")
    TABLE_COLUMN_MISSING = Detail("error", "表格 {field} 缺少列 {value}。",
                                  "Table {field} lacks the column {value}.")
    TABLE_COLUMN_UNKNOWN = Detail("warning", "表格 {field} 中的列 {value} 不属于表单,已忽略。",
                                  "Column {value} of table {field} is not part of the form; "
                                  "ignored.")

    # -- values ----------------------------------------------------------------------------
    REQUIRED = Detail("error", "{label}必须填写。", "{label_en} is required.")
    NOT_A_NUMBER = Detail("error", "{label}应填写数字,填的是 “{value}”。",
                          "{label_en} must be a number; found “{value}”.")
    NOT_WHOLE = Detail("error", "{label}应为整数,填的是 “{value}”。",
                       "{label_en} must be a whole number; found “{value}”.")
    OUT_OF_RANGE = Detail("error", "{label}应{detail_zh},填的是 “{value}”。",
                          "{label_en} must be {detail}; found “{value}”.")
    NOT_A_DATE = Detail("error", "{label}应填写日期,如 2026-11-03,填的是 “{value}”。",
                        "{label_en} must be a date such as 2026-11-03; found “{value}”.")
    RATE_AMBIGUOUS = Detail(
        "error", "{label}填的 “{value}” 有歧义(95% 还是 {value}%?),请填写百分数,如 95 或 95%。",
        "“{value}” in {label_en} is ambiguous (95 % or {value} %?); type the percentage, "
        "as 95 or 95%.")
    DATE_AMBIGUOUS = Detail(
        "error", "{label}的日期 “{value}” 有歧义(日/月还是月/日?),请写成 2026-11-03 或 2026年11月3日。",
        "The date “{value}” in {label_en} is ambiguous (day/month or month/day?); write "
        "2026-11-03.")
    NOT_A_DATETIME = Detail("error", "{label}应填写日期和时间,如 2026-11-03 14:30,填的是 “{value}”。",
                            "{label_en} must be a date and time such as 2026-11-03 14:30; "
                            "found “{value}”.")
    NOT_A_MONTH = Detail("error", "{label}应填写年月,如 2026-11,填的是 “{value}”。",
                         "{label_en} must be a month such as 2026-11; found “{value}”.")
    NOT_A_CHOICE = Detail("error", "{label}应从下拉列表中选择({detail}),填的是 “{value}”。",
                          "{label_en} must be one of the listed options ({detail}); found "
                          "“{value}”.")
    NOT_A_BOOL = Detail("error", "{label}应填 是/否,填的是 “{value}”。",
                        "{label_en} must be yes/no; found “{value}”.")
    TICK_UNRECOGNISED = Detail("error", "{label}中的 “{value}” 不是勾选标记,请用 √ 勾选。",
                               "“{value}” in {label_en} is not a tick mark; tick with √.")
    MULTIPLE_TICKS = Detail("error", "{label}只能勾选一项,却勾了 {detail} 项。",
                            "{label_en} takes exactly one tick; found {detail}.")
    CELL_UNREADABLE = Detail(
        "error", "{label}所在单元格的存储内容无法可靠读取({detail_zh}),文件可能被其他软件改写或已损坏。请在 Excel 中重新输入该单元格并保存后再提交。",
        "The cell of {label_en} is stored in a way that cannot be read reliably ({detail}); "
        "the file may have been rewritten by other software or damaged. Type the cell again "
        "in Excel, save and resubmit.")
    FORMULA_IN_INPUT = Detail("error", "{label}中填了公式 “{value}”,请直接填写数值。",
                              "{label_en} holds a formula “{value}”; type the value itself.")
    TOO_LONG = Detail("error", "{label}过长(最多 {detail} 个字符)。",
                      "{label_en} is too long (at most {detail} characters).")
    INVALID_VALUE = Detail("error", "{label}的值 “{value}” 不合要求:{detail}。",
                           "{label_en} has an invalid value “{value}”: {detail}.")
    AMOUNT_MISMATCH = Detail("error", "金额应为 数量 × 单价 = {detail},填的是 “{value}”。",
                             "Amount must equal quantity × unit price = {detail}; found "
                             "“{value}”.")
    NO_LINES = Detail("error", "{label}至少要填写一行。", "{label_en} needs at least one line.")
    INCOMPLETE_SURVEY = Detail(
        "error", "问卷只回答了 {value} 题,少于 {detail} 题,视为未完成。",
        "Only {value} questions answered, fewer than {detail}; the survey is incomplete.")
    DATE_ORDER = Detail("error", "{label}不能早于{detail_zh}。", "{label_en} cannot be before "
                        "{detail}.")
    UNUSED_INPUT = Detail(
        "warning", "{label}已填写,但该顾客按评分政策 {detail} 计分,此项不计入得分。",
        "{label_en} is filled in, but this customer is scored by policy {detail}, which does "
        "not use it.")
    UNKNOWN_CUSTOMER = Detail("warning", "客户 “{value}” 不在客户主数据中:请在客户一览表中加上该客户或别名后重新导入。",
                              "Customer “{value}” is not in the customer master: add it, or "
                              "an alias, to the customer list and import it again.")
    CUSTOMER_CONFLICT = Detail("error", "“{value}” 与 {detail} 的客户重复(名称、编号或别名相同)。",
                               "“{value}” repeats the customer at {detail} (same name, code "
                               "or alias).")

    # -- 8D staging and Word files ---------------------------------------------------------
    STAGE_ORDER = Detail("error", "{label}:{detail_zh}尚未完成,不能勾选本步骤完成。",
                         "{label_en}: {detail} is not done yet, so this step cannot be done.")
    STAGE_INCOMPLETE = Detail("error", "{label}必须填写后才能勾选{detail_zh}完成。",
                              "{label_en} must be filled in before {detail} is marked done.")
    CLOSURE_INCOMPLETE = Detail("error", "{label}:不能结案,{detail_zh}尚未完成。",
                                "{label_en}: cannot be closed, {detail} not done yet.")
    FIELD_AMBIGUOUS = Detail(
        "error", "{label}有多个输入框且内容不同(此处为 “{value}”,另见 {detail_zh}),无法确定以哪个为准。"
        "请删除多余的副本,只在一个输入框中填写后重新提交。",
        "{label_en} is in more than one input, with different contents (“{value}” here, see "
        "also {detail}), so which one is meant cannot be told. Delete the extra copies, fill "
        "in one input only and resubmit.")
    UNKNOWN_INPUT = Detail(
        "error", "{label}表格中的 “{value}” 所在的输入框不属于任何一列,无法读取。"
        "请把它填写到该行对应列的输入框中。",
        "“{value}” in table {label_en} is in an input that belongs to no column and cannot "
        "be read; type it into the input of its column in that row.")
    INPUT_REPLACED = Detail(
        "error", "{label}的输入框被整个选中后用文字覆盖,输入框已不存在,无法确定填写内容的范围。"
        "请在新发放的空白表单中填写:先点进输入框内部,再输入。",
        "The input of {label_en} was selected as a whole and typed over, so it is gone and "
        "where its value ends cannot be told. Fill in a freshly issued blank: click inside "
        "the input, then type.")
    LINE_BREAKS_LOST = Detail(
        "warning", "文件经 LibreOffice 保存,{label}中的换行未能保留,多行内容已连成一段。",
        "The file was saved by LibreOffice, which does not keep the line breaks in "
        "{label_en}; its lines were read as one.")

    @property
    def severity(self) -> Severity:
        """Whether this code makes a file invalid (``error``) or is only reported."""
        return self.value.severity
