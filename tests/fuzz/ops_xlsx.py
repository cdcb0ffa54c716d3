"""Operators for workbooks: defined names, dimensions, shared strings, cells, tables, identity.

Each one edits a part with lxml (or, for spellings lxml would normalise away, with a regular
expression) and rebuilds the zip consistently. Respellings that keep every value are
`Expect.SAME`; a formula put into an input cell is `Expect.REFUSE`; the rest `Expect.KEEP`.
"""

from __future__ import annotations

import random
import re
from copy import deepcopy
from dataclasses import dataclass
from decimal import Decimal

from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.cell import coordinate_from_string, range_boundaries

from qmsforms.workspace import Workspace

from . import package as pk
from .mutation import Expect, Mutation, operator
from .seeds import SST_PART, Seed

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
X14 = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"
XM = "http://schemas.microsoft.com/office/excel/2006/main"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
WORKBOOK = "xl/workbook.xml"


def m(tag: str) -> str:
    """Clark name of a SpreadsheetML main element."""
    return f"{{{MAIN}}}{tag}"


@dataclass(frozen=True)
class InputCell:
    """A cell staff type into: which part, which reference, which field."""

    part: str
    ref: str
    field: str
    computed: bool = False
    """A computed table column (the amount): a formula there is checked, not refused."""


class Workbook:
    """The parts of a seed workbook an operator needs, parsed once."""

    def __init__(self, seed: Seed) -> None:
        """Read the package of ``seed``."""
        self.members = pk.read(seed.data)
        self.workbook = pk.parse(pk.get(self.members, WORKBOOK) or b"")
        rels = pk.targets(self.members, WORKBOOK)
        self.sheets = {s.get("name", ""): rels.get(s.get(f"{{{REL}}}id", ""), "")
                       for s in self.workbook.iter(m("sheet"))}
        self.fields = set(seed.oracle)
        self.kinds = seed.kinds
        form = Workspace().registry.get(seed.form)
        self.computed = {spec.name: [bool(c.product) for c in spec.columns]
                         for spec in form.fields if spec.kind == "table"}
        self.parts: dict[str, object] = {}

    def part(self, name: str) -> pk.etree._Element:
        """A part parsed (kept, so edits made on it are written by `build`)."""
        if name not in self.parts:
            self.parts[name] = pk.parse(pk.get(self.members, name) or b"")
        return self.parts[name]  # type: ignore[return-value]

    def build(self) -> bytes:
        """The package with every parsed part written back."""
        members = self.members
        for name, root in self.parts.items():
            members = pk.put(members, name, pk.dump(root))  # type: ignore[arg-type]
        return pk.build(members)

    def names(self) -> list[pk.etree._Element]:
        """Workbook-scoped defined names of the form's fields."""
        return [d for d in self.workbook.iter(m("definedName"))
                if d.get("localSheetId") is None and d.get("name") in self.fields]

    def sst(self) -> list[pk.etree._Element]:
        """The ``si`` items of the shared-strings table."""
        return list(self.part(SST_PART).iter(m("si")))

    def tables(self) -> list[tuple[str, str]]:
        """(sheet part, table part) of every Excel table."""
        out = []
        for part in self.sheets.values():
            out += [(part, t) for t in pk.targets(self.members, part).values()
                    if t.startswith("xl/tables/")]
        return out

    def inputs(self) -> list[InputCell]:
        """Every cell bound to a field: each cell of a name, each data cell of a table."""
        out = []
        for name in self.names():
            where = _destination(name.text or "")
            if where is None or where[0] not in self.sheets or name.get("name") not in self.kinds:
                continue
            min_col, min_row, max_col, max_row = range_boundaries(where[1])
            cols = range(min_col, max_col + 1) if self._ticks(name) else [min_col]
            out += [InputCell(self.sheets[where[0]], f"{get_column_letter(c)}{min_row}",
                              name.get("name", "")) for c in cols]
        for sheet_part, table_part in self.tables():
            table = self.part(table_part)
            min_col, min_row, max_col, max_row = range_boundaries(table.get("ref", ""))
            computed = self.computed.get(table.get("name", ""), [])
            out += [InputCell(sheet_part, f"{get_column_letter(c)}{r}", table.get("name", ""),
                              c - min_col < len(computed) and computed[c - min_col])
                    for r in range(min_row + 1, max_row + 1)
                    for c in range(min_col, max_col + 1)]
        return out

    def _ticks(self, name: pk.etree._Element) -> bool:
        return self.kinds.get(name.get("name", "")) == "ticks"

    def cell(self, found: InputCell) -> pk.etree._Element | None:
        """The ``c`` element of an input cell, None when the sheet has none there."""
        root = self.part(found.part)
        return next((c for c in root.iter(m("c")) if c.get("r") == found.ref), None)

    def filled(self) -> list[tuple[InputCell, pk.etree._Element]]:
        """Input cells that hold a value."""
        out = []
        for found in self.inputs():
            cell = self.cell(found)
            if cell is not None and cell.find(m("v")) is not None:
                out.append((found, cell))
        return out


def _destination(text: str) -> tuple[str, str] | None:
    match = re.fullmatch(r"'?(.+?)'?!(\$?[A-Z]+\$?[0-9]+(?::\$?[A-Z]+\$?[0-9]+)?)", text.strip())
    return (match.group(1).replace("''", "'"), match.group(2).replace("$", "")) if match else None


def _sst_text(si: pk.etree._Element) -> str:
    """The text of a shared string as Excel shows it (runs joined, phonetics left out)."""
    return "".join(t.text or "" for t in si.iter(m("t"))
                   if t.getparent().tag != m("rPh"))


# -- defined names ---------------------------------------------------------------------------

@operator("names_drop", "xlsx")
def names_drop(rng: random.Random, seed: Seed) -> Mutation:
    """One field's defined name removed."""
    book = Workbook(seed)
    name = rng.choice(book.names())
    name.getparent().remove(name)
    return Mutation(_with_workbook(book), Expect.KEEP, f"name {name.get('name')} dropped")


def _with_workbook(book: Workbook) -> bytes:
    book.members = pk.put(book.members, WORKBOOK, pk.dump(book.workbook))
    return book.build()


def _moved(text: str, rows: int = 0, sheet: str | None = None) -> str:
    where = _destination(text)
    assert where is not None
    min_col, min_row, max_col, max_row = range_boundaries(where[1])
    first = f"${get_column_letter(min_col)}${min_row + rows}"
    last = f"${get_column_letter(max_col)}${max_row + rows}"
    ref = first if first == last else f"{first}:{last}"
    return f"'{sheet or where[0]}'!{ref}"


@operator("names_duplicate", "xlsx")
def names_duplicate(rng: random.Random, seed: Seed) -> Mutation:
    """A field's name defined twice: same target, another cell, or a sheet-scoped twin."""
    book = Workbook(seed)
    name = rng.choice(book.names())
    twin = deepcopy(name)
    variant = rng.choice(["same-target", "other-cell-after", "other-cell-before",
                          "other-name-target", "sheet-scoped"])
    if variant.startswith("other-cell"):
        twin.text = _moved(name.text or "", rows=rng.choice([-1, 1, 2]))
    elif variant == "other-name-target":
        twin.text = rng.choice(book.names()).text
    elif variant == "sheet-scoped":
        twin.set("localSheetId", "0")
        twin.text = _moved(name.text or "", rows=1)
    if variant.endswith("before"):
        name.addprevious(twin)
    else:
        name.addnext(twin)
    return Mutation(_with_workbook(book), Expect.KEEP,
                    f"name {name.get('name')} duplicated as {twin.text} ({variant})")


@operator("names_retarget", "xlsx")
def names_retarget(rng: random.Random, seed: Seed) -> Mutation:
    """A name pointing nowhere a field can be: row 0, past row 1048576, a missing sheet, two
    areas, ``#REF!``, whole columns."""
    book = Workbook(seed)
    name = rng.choice(book.names())
    where = _destination(name.text or "")
    assert where is not None
    sheet, ref = where
    col = re.match(r"[A-Z]+", ref).group(0)  # type: ignore[union-attr]
    variant = rng.choice(["row-0", "past-last-row", "huge-row", "missing-sheet", "two-areas",
                          "ref-error", "sheet-ref-error", "whole-column", "row-0-range"])
    text = {
        "row-0": f"'{sheet}'!${col}$0",
        "row-0-range": f"'{sheet}'!${col}$0:${col}$1",
        "past-last-row": f"'{sheet}'!${col}$1048577",
        "huge-row": f"'{sheet}'!${col}$99999999",
        "missing-sheet": _moved(name.text or "", sheet=sheet + "2"),
        "two-areas": f"{name.text},{_moved(name.text or '', rows=1)}",
        "ref-error": "#REF!",
        "sheet-ref-error": f"'{sheet}'!#REF!",
        "whole-column": f"'{sheet}'!${col}:${col}",
    }[variant]
    name.text = text
    return Mutation(_with_workbook(book), Expect.KEEP,
                    f"name {name.get('name')} -> {text} ({variant})")


# -- dimension -------------------------------------------------------------------------------

@operator("dimension_lie", "xlsx")
def dimension_lie(rng: random.Random, seed: Seed) -> Mutation:
    """A sheet's ``<dimension>`` saying something else than its cells."""
    book = Workbook(seed)
    part = rng.choice([p for p in book.sheets.values()])
    root = book.part(part)
    dim = root.find(m("dimension"))
    ref = rng.choice(["A1", "A1:B2", "C3:D4", "A1:XFD1048576", "A1:H1048576", "A1:H100000",
                      "", "ZZZ", "A0", None])
    if dim is None:
        return Mutation(book.build(), Expect.KEEP, f"{part} has no dimension")
    if ref is None:
        root.remove(dim)
    else:
        dim.set("ref", ref)
    return Mutation(book.build(), Expect.KEEP, f"{part} dimension {ref!r}")


_FAR_CELLS: tuple[tuple[str, str], ...] = (
    # (variant, the row written below the sheet's last; {r} is a row past it)
    ("last cell of the grid", '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'),
    ("last row", '<row r="1048576"><c r="H1048576" t="inlineStr"><is><t>x</t></is></c></row>'),
    ("last column", '<row r="{r}"><c r="XFD{r}"><v>1</v></c></row>'),
    ("seven letters", '<row r="{r}"><c r="ZZZZZZZ{r}"><v>1</v></c></row>'),
    ("past the last row", '<row r="99999999999"><c r="A99999999999"><v>1</v></c></row>'),
    ("row past the last, cell without r", '<row r="99999999999"><c><v>1</v></c></row>'),
    ("row 0", '<row r="{r}"><c r="B0"><v>1</v></c></row>'),
    ("second r", '<row r="{r}"><c r="J{r}" r="XFD1048576"><v>1</v></c></row>'),
    ("r spelled apart", "<row r='{r}'><c s=\"0\"\n r = 'xfd1048576'><v>1</v></c></row>"),
    ("empty far cell", '<row r="1048576"><c r="XFD1048576" s="0"/></row>'),
    ("far cell in a comment", '<!-- <row r="1048576"><c r="XFD1048576"><v>1</v></c></row> -->'),
    ("unknown error value", '<row r="{r}"><c r="J{r}" t="e"><v>7</v></c></row>'),
    ("spilled formula", '<row r="{r}"><c r="J{r}" t="e"><f>A1:A2</f><v>#SPILL!</v></c></row>'),
)


@operator("cell_far", "xlsx")
def cell_far(rng: random.Random, seed: Seed) -> Mutation:
    """A stray cell far outside a sheet, past its grid, or spelled to hide where it is."""
    book = Workbook(seed)
    part = rng.choice(sorted(book.sheets.values()))
    data = pk.get(book.members, part) or b""
    last = max((int(r) for r in re.findall(rb'<row r="([0-9]+)"', data)), default=0)
    variant, row = rng.choice(_FAR_CELLS)
    tail = data.rfind(b"</sheetData>")
    if tail == -1:
        return Mutation(book.build(), Expect.KEEP, f"{part} has no sheet data ({variant})")
    added = row.format(r=last + 15).encode()
    mutant = pk.put(book.members, part, data[:tail] + added + data[tail:])
    return Mutation(pk.build(mutant), Expect.KEEP, f"{part}: {added.decode()[:60]} ({variant})")


# -- shared strings --------------------------------------------------------------------------

def _string_cells(book: Workbook) -> list[pk.etree._Element]:
    return [c for part in book.sheets.values() for c in book.part(part).iter(m("c"))
            if c.get("t") == "s" and c.find(m("v")) is not None]


@operator("sst_reorder", "xlsx")
def sst_reorder(rng: random.Random, seed: Seed) -> Mutation:
    """The shared strings in another order, every index remapped to match."""
    book = Workbook(seed)
    sst = book.part(SST_PART)
    items = book.sst()
    order = list(range(len(items)))
    rng.shuffle(order)
    new_index = {old: new for new, old in enumerate(order)}
    for si in items:
        sst.remove(si)
    for old in order:
        sst.append(items[old])
    for cell in _string_cells(book):
        v = cell.find(m("v"))
        v.text = str(new_index[int(v.text)])
    return Mutation(book.build(), Expect.SAME, f"{len(items)} strings permuted")


@operator("sst_bad_index", "xlsx")
def sst_bad_index(rng: random.Random, seed: Seed) -> Mutation:
    """A string cell whose index is out of range, negative, not a number or not whole."""
    book = Workbook(seed)
    cells = [c for _, c in book.filled() if c.get("t") == "s"] or _string_cells(book)
    cell = rng.choice(cells)
    v = cell.find(m("v"))
    size = len(book.sst())
    variant = rng.choice(["out-of-range", "far-out", "negative", "text", "fraction", "spaced",
                          "empty", "hex"])
    v.text = {"out-of-range": str(size), "far-out": str(size + rng.randint(1, 10**6)),
              "negative": "-1", "text": "abc", "fraction": f"{v.text}.5",
              "spaced": f" {v.text} ", "empty": "", "hex": "0x1"}[variant]
    return Mutation(book.build(), Expect.KEEP, f"{cell.get('r')} index {v.text!r} ({variant})")


def _input_strings(book: Workbook) -> list[pk.etree._Element]:
    """The ``si`` items input cells point at (others are labels)."""
    items = book.sst()
    used = {int(c.find(m("v")).text) for _, c in book.filled() if c.get("t") == "s"}
    return [items[i] for i in sorted(used) if i < len(items)]


@operator("sst_rich_text", "xlsx")
def sst_rich_text(rng: random.Random, seed: Seed) -> Mutation | None:
    """A shared string split into formatted runs, sometimes with a phonetic reading."""
    book = Workbook(seed)
    pool = _input_strings(book) if rng.random() < 0.7 else book.sst()
    items = [si for si in pool if si.find(m("t")) is not None and len(_sst_text(si)) > 1]
    if not items:
        return None
    si = rng.choice(items)
    text = _sst_text(si)
    cut = rng.randrange(1, len(text))
    for child in list(si):
        si.remove(child)
    for i, piece in enumerate((text[:cut], text[cut:])):
        run = pk.etree.SubElement(si, m("r"))
        if i or rng.random() < 0.5:
            rpr = pk.etree.SubElement(run, m("rPr"))
            pk.etree.SubElement(rpr, m(rng.choice(["b", "i", "u"])))
            pk.etree.SubElement(rpr, m("sz"), val="11")
            pk.etree.SubElement(rpr, m("rFont"), val="宋体")
        t = pk.etree.SubElement(run, m("t"))
        t.text = piece
        if piece != piece.strip() or "\n" in piece:
            t.set(XML_SPACE, "preserve")
    phonetic = rng.random() < 0.4
    if phonetic:
        rph = pk.etree.SubElement(si, m("rPh"), sb="0", eb="1")
        pk.etree.SubElement(rph, m("t")).text = "ピン"
        pk.etree.SubElement(si, m("phoneticPr"), fontId="1", type="noConversion")
    return Mutation(book.build(), Expect.SAME,
                    f"{text!r} split at {cut}{' with phonetic run' if phonetic else ''}")


@operator("sst_space", "xlsx")
def sst_space(rng: random.Random, seed: Seed) -> Mutation | None:
    """``xml:space="preserve"`` added or removed where it changes nothing."""
    book = Workbook(seed)
    texts = [t for si in book.sst() for t in si.iter(m("t"))
             if t.text and t.text == t.text.strip() and "\n" not in t.text]
    if not texts:
        return None
    chosen = rng.sample(texts, min(len(texts), rng.randint(1, 10)))
    for t in chosen:
        if t.get(XML_SPACE):
            del t.attrib[XML_SPACE]
        else:
            t.set(XML_SPACE, rng.choice(["preserve", "default"]))
    return Mutation(book.build(), Expect.SAME, f"xml:space toggled on {len(chosen)} strings")


# -- cells -----------------------------------------------------------------------------------

def _excel_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


_FORMULA_SPELLINGS = ("plain", "space-in-end", "space-in-both", "prefixed", "shared-master",
                      "shared-child", "array", "after-value", "padded", "empty")


@operator("formula_insert", "xlsx")
def formula_insert(rng: random.Random, seed: Seed) -> Mutation:
    """A formula put into a filled input cell, its cached result the value that was typed."""
    book = Workbook(seed)
    found, cell = rng.choice(book.filled())
    v = cell.find(m("v"))
    if cell.get("t") == "s":
        text = _sst_text(book.sst()[int(v.text)])
        cell.set("t", "str")
        v.text = text
        expr = rng.choice([_excel_string(text), f"T({_excel_string(text)})",
                           f"TRIM({_excel_string(text)})"])
    else:
        expr = rng.choice([f"{v.text}+0", f"VALUE(\"{v.text}\")", f"{v.text}*1"])
    spelling = rng.choice(_FORMULA_SPELLINGS)
    f = pk.etree.Element(m("f"))
    f.text = None if spelling in ("shared-child", "empty") else expr
    if spelling == "shared-master":
        f.set("t", "shared")
        f.set("ref", cell.get("r", ""))
        f.set("si", "0")
    elif spelling == "shared-child":
        f.set("t", "shared")
        f.set("si", "0")
    elif spelling == "array":
        f.set("t", "array")
        f.set("ref", cell.get("r", ""))
    if spelling == "after-value":
        v.addnext(f)
    else:
        v.addprevious(f)
    data = pk.dump(book.part(found.part))
    if spelling in ("space-in-end", "space-in-both", "prefixed", "padded"):
        data = _respell_formula(data, cell.get("r", ""), spelling)
    book.parts.pop(found.part)
    book.members = pk.put(book.members, found.part, data)
    expect = Expect.KEEP if found.computed else Expect.REFUSE
    return Mutation(book.build(), expect, f"{found.field} {found.ref}: ={expr} ({spelling})")


def _respell_formula(data: bytes, ref: str, spelling: str) -> bytes:
    cell = re.search(rb'<c r="' + ref.encode() + rb'"[^>]*>.*?</c>', data, re.S)
    assert cell is not None
    body = cell.group(0)
    if spelling == "space-in-end":
        body = body.replace(b"</f>", b"</f >")
    elif spelling == "space-in-both":
        body = body.replace(b"<f>", b"<f >").replace(b"</f>", b"</f\n>")
    elif spelling == "prefixed":
        body = body.replace(b"<f>", b'<x:f xmlns:x="' + MAIN.encode() + b'">')
        body = body.replace(b"</f>", b"</x:f>")
    elif spelling == "padded":
        body = body.replace(b"<f>", b" " * 2048 + b"<f>", 1)
    return data[:cell.start()] + body + data[cell.end():]


@operator("type_flip", "xlsx")
def type_flip(rng: random.Random, seed: Seed) -> Mutation | None:
    """A shared-string input cell stored as an inline string (same) or as ``t="str"``."""
    book = Workbook(seed)
    cells = [(f, c) for f, c in book.filled() if c.get("t") == "s"]
    if not cells:
        return None
    found, cell = rng.choice(cells)
    v = cell.find(m("v"))
    text = _sst_text(book.sst()[int(v.text)])
    variant = rng.choice(["inlineStr", "inlineStr-runs", "str"])
    if variant == "str":
        cell.set("t", "str")
        v.text = text
        expect = Expect.KEEP
    else:
        cell.set("t", "inlineStr")
        cell.remove(v)
        inline = pk.etree.SubElement(cell, m("is"))
        pieces = [text] if variant == "inlineStr" or len(text) < 2 else [text[:1], text[1:]]
        for piece in pieces:
            holder = inline if len(pieces) == 1 else pk.etree.SubElement(inline, m("r"))
            t = pk.etree.SubElement(holder, m("t"))
            t.text = piece
            if piece != piece.strip() or "\n" in piece:
                t.set(XML_SPACE, "preserve")
        expect = Expect.SAME
    return Mutation(book.build(), expect, f"{found.field} {found.ref} as {variant}")


@operator("number_spelling", "xlsx")
def number_spelling(rng: random.Random, seed: Seed) -> Mutation | None:
    """A number cell written another way (``95.0``, ``9.5E1``, no ``t``): the same number."""
    book = Workbook(seed)
    cells = [(f, c) for f, c in book.filled()
             if c.get("t") in (None, "n") and c.find(m("f")) is None]
    if not cells:
        return None
    found, cell = rng.choice(cells)
    v = cell.find(m("v"))
    exact = Decimal(v.text)
    scientific = format(exact, "E")
    spelled = rng.choice([v.text + ("0" if "." in v.text else ".0"), scientific,
                          scientific.lower().replace("e+", "e"), "0" + v.text])
    old = v.text
    v.text = spelled
    if cell.get("t") == "n" and rng.random() < 0.5:
        del cell.attrib["t"]
    return Mutation(book.build(), Expect.SAME, f"{found.field} {found.ref}: {old} as {spelled}")


@operator("ref_remove", "xlsx")
def ref_remove(rng: random.Random, seed: Seed) -> Mutation:
    """``r`` attributes left out where position gives the same cell (cells and rows)."""
    book = Workbook(seed)
    part = rng.choice(sorted({f.part for f in book.inputs()}))
    root = book.part(part)
    rows = list(root.iter(m("row")))
    chosen = rows if rng.random() < 0.3 else rng.sample(rows, min(len(rows), 5))
    removed = 0
    previous_row = 0
    for row in rows:
        number = int(row.get("r", previous_row + 1))
        if row in chosen:
            col = 0
            for cell in row.iter(m("c")):
                letters, _ = coordinate_from_string(cell.get("r", "A1"))
                index = column_index_from_string(letters)
                if index == col + 1:
                    del cell.attrib["r"]
                    removed += 1
                col = index
            if number == previous_row + 1 and rng.random() < 0.5:
                del row.attrib["r"]
        previous_row = number
    return Mutation(book.build(), Expect.SAME, f"{removed} cell references removed in {part}")


@operator("ref_respell", "xlsx")
def ref_respell(rng: random.Random, seed: Seed) -> Mutation:
    """An input cell's reference spelled in lower case, absolute or with a leading zero."""
    book = Workbook(seed)
    found, cell = rng.choice(book.filled())
    letters, row = coordinate_from_string(found.ref)
    new = rng.choice([found.ref.lower(), f"${letters}${row}", f"{letters}0{row}"])
    cell.set("r", new)
    return Mutation(book.build(), Expect.KEEP, f"{found.field} {found.ref} spelled {new}")


_DATABAR_GUID = "{B025F937-C7B1-47D3-B67F-A62EFF666E3E}"
_EXT_GUID = "{78C0D931-6437-407d-A8EE-F0AAD7539E65}"


@operator("databar", "xlsx")
def databar(rng: random.Random, seed: Seed) -> Mutation:
    """Data-bar conditional formatting (with its x14 extension) on an input range."""
    book = Workbook(seed)
    found = rng.choice(book.inputs())
    root = book.part(found.part)
    rule_id = f"{{6F1C8E30-0000-4000-8000-00000000{rng.randrange(10000):04d}}}"
    cf = pk.etree.Element(m("conditionalFormatting"), sqref=found.ref)
    rule = pk.etree.SubElement(cf, m("cfRule"), type="dataBar", priority="1")
    bar = pk.etree.SubElement(rule, m("dataBar"))
    pk.etree.SubElement(bar, m("cfvo"), type="min")
    pk.etree.SubElement(bar, m("cfvo"), type="max")
    pk.etree.SubElement(bar, m("color"), rgb="FF638EC6")
    ext = pk.etree.SubElement(pk.etree.SubElement(rule, m("extLst")), m("ext"),
                              uri=_DATABAR_GUID, nsmap={"x14": X14})
    pk.etree.SubElement(ext, f"{{{X14}}}id").text = rule_id
    follower = next((root.find(m(t)) for t in ("dataValidations", "hyperlinks", "printOptions",
                                                  "pageMargins", "pageSetup")
                     if root.find(m(t)) is not None), None)
    if follower is not None:
        follower.addprevious(cf)
    else:
        root.find(m("sheetData")).addnext(cf)
    ext_list = root.find(m("extLst"))
    if ext_list is None:
        ext_list = pk.etree.SubElement(root, m("extLst"))
    outer = pk.etree.SubElement(ext_list, m("ext"), uri=_EXT_GUID, nsmap={"x14": X14})
    cfs = pk.etree.SubElement(outer, f"{{{X14}}}conditionalFormattings")
    x14cf = pk.etree.SubElement(cfs, f"{{{X14}}}conditionalFormatting", nsmap={"xm": XM})
    x14rule = pk.etree.SubElement(x14cf, f"{{{X14}}}cfRule", type="dataBar", id=rule_id)
    x14bar = pk.etree.SubElement(x14rule, f"{{{X14}}}dataBar", minLength="0", maxLength="100")
    with_formula = rng.random() < 0.6
    for kind, value in (("min", "0"), ("max", "100")):
        if with_formula:
            cfvo = pk.etree.SubElement(x14bar, f"{{{X14}}}cfvo", type="num")
            pk.etree.SubElement(cfvo, f"{{{XM}}}f").text = value
        else:
            pk.etree.SubElement(x14bar, f"{{{X14}}}cfvo", type=f"auto{kind.title()}")
    pk.etree.SubElement(x14bar, f"{{{X14}}}negativeFillColor", rgb="FFFF0000")
    pk.etree.SubElement(x14bar, f"{{{X14}}}axisColor", rgb="FF000000")
    pk.etree.SubElement(x14cf, f"{{{XM}}}sqref").text = found.ref
    note = f"data bar on {found.ref}{' with xm:f bounds' if with_formula else ''}"
    return Mutation(book.build(), Expect.SAME, note)


# -- tables and identity ---------------------------------------------------------------------

@operator("table_resize", "xlsx")
def table_resize(rng: random.Random, seed: Seed) -> Mutation | None:
    """An Excel table's range grown, shrunk past blank rows only (same), or shrunk so that
    filled lines lie below it (they must be read or refused, never dropped)."""
    book = Workbook(seed)
    tables = book.tables()
    if not tables:
        return None
    _, table_part = rng.choice(tables)
    table = book.part(table_part)
    min_col, min_row, max_col, max_row = range_boundaries(table.get("ref", ""))
    name = table.get("name", "")
    lines = len(seed.oracle.get(name) or [])
    last_filled = min_row + lines
    variant = rng.choice(["grow", "shrink-blank", "cut-lines"])
    if variant == "grow":
        new_max, expect = max_row + rng.randint(1, 50), Expect.SAME
    elif variant == "shrink-blank":
        new_max, expect = rng.randint(last_filled, max_row), Expect.SAME
    else:
        if lines < 2:
            return None
        new_max, expect = rng.randint(min_row + 1, last_filled - 1), Expect.KEEP
    ref = f"{get_column_letter(min_col)}{min_row}:{get_column_letter(max_col)}{new_max}"
    table.set("ref", ref)
    auto = table.find(m("autoFilter"))
    if auto is not None:
        auto.set("ref", ref)
    return Mutation(book.build(), expect, f"table {name} {variant} to {ref}")


@operator("identity_alter", "xlsx")
def identity_alter(rng: random.Random, seed: Seed) -> Mutation:
    """The identity changed in the custom properties, the hidden sheet, or both."""
    book = Workbook(seed)
    custom = "docProps/custom.xml"
    variant = rng.choice(["props-form", "props-instance", "props-dropped", "sheet-cleared",
                          "sheet-cleared-props-fingerprint", "both-gone"])
    expect = Expect.KEEP
    if variant.startswith("props-") or variant.endswith("-fingerprint"):
        key = {"props-form": "form", "props-instance": "instance_id",
               "props-dropped": "", "sheet-cleared-props-fingerprint": "fingerprint"}[variant]
        root = book.part(custom)
        for prop in list(root):
            if key and prop.get("name") == f"qmsforms.{key}":
                prop[0].text = "x" + (prop[0].text or "")
            elif not key:
                root.remove(prop)
        if variant in ("props-form", "props-instance", "props-dropped"):
            expect = Expect.SAME  # the hidden sheet is read first
    if variant.startswith("sheet-cleared") or variant == "both-gone":
        hidden = book.sheets.get("_qmsforms", "")
        data = book.part(hidden).find(m("sheetData"))
        for row in list(data):
            data.remove(row)
        if variant == "sheet-cleared":
            expect = Expect.SAME  # the custom properties hold the identity too
    if variant == "both-gone":
        book.members = [mm for mm in book.members if mm.name != custom]
    return Mutation(book.build(), expect, f"identity {variant}")
