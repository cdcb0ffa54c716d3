"""The structure of a workbook's package: sheets, defined names, tables, styles, properties.

What validation needs of a workbook besides the cell values is read here from the workbook,
relationship, table, styles and custom-property parts with defusedxml; the values come from
calamine (`qmsforms.excel.book`). Parts are found without regard to case, as OPC says
(`qmsforms.opc.parts.Parts`).
"""

from __future__ import annotations

import posixpath
from functools import cached_property
from pathlib import Path

from defusedxml import ElementTree

from ..issues import Code, Issue
from ..memory import out_of_memory
from ..opc.parts import Parts

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CUSTOM = "{http://schemas.openxmlformats.org/officeDocument/2006/custom-properties}"
_VT = "{http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes}"


class BookError(Exception):
    """The workbook's package is not what an .xlsx must be; carries the issue to report."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.code)
        self.issue = issue




class WorkbookPackage:
    """The parts of an open workbook package, read on first use (see the module docstring).

    Raises `BookError` (or `KeyError`, ``ElementTree.ParseError``, ``ValueError``, which the
    reader turns into one) when the workbook part is missing or broken.
    """

    def __init__(self, path: Path, parts: Parts) -> None:
        """Read the workbook part of ``parts``, the package of the file ``path``."""
        self.path = path
        self.parts = parts
        self._xml: dict[str, bytes] = {}
        self._read_workbook_part()

    def part(self, name: str) -> bytes:
        """The bytes of a part (name in any case), XML in UTF-8; `KeyError` when missing."""
        return self.parts.read(name)

    def _relationships(self, part: str) -> list[tuple[str, str, str]]:
        """(id, type, target part name) of each internal relationship of the part ``part``."""
        name = rels_part(part)
        if name not in self.parts:
            return []
        out = []
        for rel in ElementTree.fromstring(self.part(name)).iter(f"{_PKG_REL}Relationship"):
            if rel.get("TargetMode") != "External":
                out.append((rel.get("Id", ""), rel.get("Type", ""),
                            resolve_target(part, rel.get("Target", ""))))
        return out

    def _rels(self, part: str) -> dict[str, str]:
        """Relationship id -> target part name, for the part ``part``."""
        return {rid: target for rid, _, target in self._relationships(part)}

    def _read_workbook_part(self) -> None:
        root = ElementTree.fromstring(self.part("xl/workbook.xml"))
        rels = self._rels("xl/workbook.xml")
        self.sheet_parts: dict[str, str] = {}
        """Sheet name -> its part name."""
        self._sheetnames: list[str] = []
        for sheet in root.iter(f"{_MAIN}sheet"):
            name = sheet.get("name", "")
            self._sheetnames.append(name)
            part = rels.get(sheet.get(f"{_REL}id", ""))
            if not part or part not in self.parts:
                raise BookError(Issue.make(Code.CORRUPT_FILE, value=self.path.name,
                                           detail=f"sheet {name!r} has no part"[:160]))
            self.sheet_parts[name] = part
        self._names: dict[str, str] = {}
        self.print_areas: dict[str, str] = {}
        """Sheet name -> its print area as written (``'Sheet'!$A$1:$H$40``, ``$A:$H`` …)."""
        self._duplicates: set[str] = set()
        # Excel compares names without case, in the workbook scope or one sheet's scope
        scopes: set[tuple[str, str | None]] = set()
        for defined in root.iter(f"{_MAIN}definedName"):
            defined_name = defined.get("name")
            if not defined_name:
                continue
            scope = defined.get("localSheetId")
            key = (defined_name.casefold(), scope)
            if key in scopes:
                self._duplicates.add(key[0])
            scopes.add(key)
            if scope is None:
                self._names[defined_name] = (defined.text or "").strip()
            elif defined_name == "_xlnm.Print_Area" and scope.isdigit() and (
                    int(scope) < len(self._sheetnames)):
                self.print_areas[self._sheetnames[int(scope)]] = (defined.text or "").strip()

    @property
    def sheetnames(self) -> list[str]:
        """Sheet names in workbook order."""
        return list(self._sheetnames)

    def defined_names(self) -> dict[str, str]:
        """Workbook-scoped defined names: name -> formula text."""
        return dict(self._names)

    def duplicate_names(self) -> set[str]:
        """Names (case-folded) defined twice in one scope, or given to two tables.

        Excel calls such a workbook corrupt; which definition a reader takes is arbitrary.
        """
        try:
            return self._duplicates | self._tables[1]
        except (KeyError, ElementTree.ParseError) as exc:
            raise _corrupt(self.path, exc) from exc

    @cached_property
    def _tables(self) -> tuple[dict[str, tuple[str, str]], set[str]]:
        """Tables by name and display name, and the names (case-folded) two tables share."""
        found: dict[str, tuple[str, str]] = {}
        owner: dict[str, str] = {}
        duplicates: set[str] = set()
        for sheet, part in self.sheet_parts.items():
            for _, kind, target in self._relationships(part):
                if not (kind.endswith("/table") or target.casefold().startswith("xl/tables/")):
                    continue
                table = ElementTree.fromstring(self.part(target))
                ref = table.get("ref", "")
                for name in (table.get("name"), table.get("displayName")):
                    if not name:
                        continue
                    if owner.setdefault(name.casefold(), target) != target:
                        duplicates.add(name.casefold())
                    if ref:
                        found.setdefault(name, (sheet, ref))
        return found, duplicates

    def table_refs(self) -> dict[str, tuple[str, str]]:
        """Excel tables by name and display name: -> (sheet, ref including the header)."""
        try:
            return dict(self._tables[0])
        except (KeyError, ElementTree.ParseError) as exc:
            raise _corrupt(self.path, exc) from exc

    @cached_property
    def has_shared_strings(self) -> bool:
        """Whether the workbook has a shared-string table (Excel's way of storing text)."""
        rels = self._rels("xl/workbook.xml")
        return any(part.casefold().endswith("sharedstrings.xml") for part in rels.values()) or any(
            name.casefold().endswith("sharedstrings.xml") for name in self.parts.names())

    @cached_property
    def custom_properties(self) -> dict[str, str]:
        """Custom document properties (name -> text), as the identity is stored."""
        name = "docProps/custom.xml"
        if name not in self.parts:
            return {}
        try:
            root = ElementTree.fromstring(self.part(name))
        except ElementTree.ParseError:
            return {}
        out = {}
        for prop in root.iter(f"{_CUSTOM}property"):
            # the value is the first vt: element; anything else an editor put there is not
            value = next((child for child in prop if child.tag.startswith(_VT)), None)
            if prop.get("name") and value is not None:
                out[prop.get("name", "")] = "".join(value.itertext())
        return out

    @cached_property
    def number_formats(self) -> list[str]:
        """Number format of each cell style (``cellXfs`` index)."""
        name = "xl/styles.xml"
        if name not in self.parts:
            return []
        from openpyxl.styles.numbers import BUILTIN_FORMATS  # only where a format is asked for

        root = ElementTree.fromstring(self.part(name))
        custom = {int(f.get("numFmtId", "-1")): f.get("formatCode", "")
                  for f in root.iter(f"{_MAIN}numFmt")}
        xfs = root.find(f"{_MAIN}cellXfs")
        out = []
        for xf in [] if xfs is None else xfs.iter(f"{_MAIN}xf"):
            fid = int(xf.get("numFmtId", "0"))
            out.append(custom.get(fid) or BUILTIN_FORMATS.get(fid, "General"))
        return out

    def sheet_xml(self, sheet: str) -> bytes:
        """The XML of a sheet's part, inflated once (the gate's copy when it kept one)."""
        data = self._xml.get(sheet)
        if data is None:
            part = self.sheet_parts.get(sheet)
            try:
                data = self.part(part) if part else b""
            except KeyError as exc:
                raise _corrupt(self.path, exc) from exc
            self._xml[sheet] = data
        return data

    def release(self) -> None:
        """Drop the cached sheet XML (it is inflated again if needed)."""
        self._xml.clear()
        self.parts.drop_inflated()


def rels_part(part: str) -> str:
    """The relationships part of a package part (``xl/_rels/workbook.xml.rels``)."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def resolve_target(source: str, target: str) -> str:
    """The part a relationship of ``source`` points at: absolute, or relative to its folder."""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))




def _corrupt(path: Path, exc: BaseException) -> BookError:
    """The CORRUPT_FILE a read error means; running out of memory is no fault of the file,
    and is raised as the `MemoryError` it is (`qmsforms.memory`)."""
    if out_of_memory(exc):
        raise MemoryError(str(exc)) from exc
    return BookError(Issue.make(Code.CORRUPT_FILE, value=path.name,
                                detail=f"{type(exc).__name__}: {exc}"[:160]))


