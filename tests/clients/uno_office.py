"""Type into a form in a real LibreOffice, through UNO, as a person does; then save it.

Run with a Python that has ``uno`` (Debian's ``python3-uno`` for ``/usr/bin/python3``), with
a JSON job on standard input::

    {"profile": "/tmp/p", "jobs": [{"open": "in.xlsx", "save": "out.xlsx", "steps": [...]}]}

Calc steps (every cell is selected, then the text entered with ``.uno:EnterString``, which is
what the macro recorder writes for a typed cell: LibreOffice recognises numbers, dates and
percentages exactly as when a person types them, in the profile's zh-CN locale):

- ``{"type": "95%", "cell": "D12"}`` or ``{"type": "95%", "name": "performance_rate"}``
  (a defined name: its first cell; ``"offset": [row, col]`` moves from there),
  with ``"sheet"`` for a cell reference on another than the first sheet;
- ``{"unprotect": "sheet name"}`` (what a clerk does through Tools ▸ Protect Sheet).

Writer steps:

- ``{"control": "description", "lines": ["first", "second"]}``: the input named
  ``description`` (the one inside the bookmark of that name, else the one whose tag or alias
  is that) is clicked, the text it shows selected, and the lines typed; between lines the
  key ``"newline"`` names is pressed: ``"enter"`` (the default, ``.uno:InsertPara``) or
  ``"shift+enter"`` (``.uno:InsertLinebreak``). LibreOffice 7.4 opens our plain-text
  controls as Input fields, where both keys put a line feed into the field.
  With ``"select": "around"`` the input is not clicked into: the selection runs from before
  it to after it (as a person drags across it, or presses Shift+Right on it), so what is
  typed replaces the Input field itself (plain-text inputs only).

Prints one JSON object: ``{"saved": [...]}``, or ``{"error": "..."}`` and exits 1.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import uno  # type: ignore[import-not-found]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]
from com.sun.star.connection import NoConnectException  # type: ignore[import-not-found]
from com.sun.star.lang import DisposedException  # type: ignore[import-not-found]

_LOCALE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" oor:op="fuse">
<value>zh-CN</value></prop></item>
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooLocale" oor:op="fuse">
<value>zh-CN</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="FirstRun" oor:op="fuse">
<value>false</value></prop></item>
</oor:items>
"""

FILTERS = {".xlsx": "Calc MS Excel 2007 XML", ".docx": "MS Word 2007 XML",
           ".ods": "calc8", ".odt": "writer8"}


def props(**values: Any) -> tuple[Any, ...]:
    """UNO property values from keyword arguments."""
    out = []
    for name, value in values.items():
        prop = PropertyValue()
        prop.Name, prop.Value = name, value
        out.append(prop)
    return tuple(out)


class Office:
    """A headless soffice with a private zh-CN profile, listening on a pipe."""

    def __init__(self, profile: Path) -> None:
        user = profile / "user"
        user.mkdir(parents=True, exist_ok=True)
        xcu = user / "registrymodifications.xcu"
        if not xcu.exists():
            xcu.write_text(_LOCALE, encoding="utf-8")
        if not (user / "extensions").exists():
            # A new profile makes soffice restart itself once; let that happen first.
            subprocess.run(["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless",
                            "--terminate_after_init"], check=False, timeout=120,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.pipe = f"qmsforms-uno-{os.getpid()}"
        self.proc = subprocess.Popen(
            ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless",
             "--invisible", "--nologo", "--norestore", "--nodefault",
             f"--accept=pipe,name={self.pipe};urp;StarOffice.ComponentContext"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local)
        url = f"uno:pipe,name={self.pipe};urp;StarOffice.ComponentContext"
        deadline = time.monotonic() + 60
        while True:
            try:
                self.ctx = resolver.resolve(url)
                break
            except NoConnectException:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise
                time.sleep(0.25)
        smgr = self.ctx.ServiceManager
        self.desktop = smgr.createInstanceWithContext("com.sun.star.frame.Desktop", self.ctx)
        self.dispatcher = smgr.createInstanceWithContext(
            "com.sun.star.frame.DispatchHelper", self.ctx)

    def open(self, path: Path) -> Any:
        """Load a document into a frame of its own (dispatch needs its controller)."""
        return self.desktop.loadComponentFromURL(path.resolve().as_uri(), "_blank", 0,
                                                 props(Hidden=True))

    def dispatch(self, doc: Any, command: str, **args: Any) -> None:
        """Send a UI command to the document's frame, as a menu or a keystroke does."""
        frame = doc.getCurrentController().getFrame()
        self.dispatcher.executeDispatch(frame, command, "", 0, props(**args))

    def save(self, doc: Any, path: Path) -> None:
        """Save As in the format the suffix names (Keep Current Format)."""
        doc.storeToURL(path.resolve().as_uri(), props(FilterName=FILTERS[path.suffix]))

    def close(self) -> None:
        """End soffice."""
        with contextlib.suppress(Exception):  # the bridge goes down with soffice
            self.desktop.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _calc_target(doc: Any, step: dict[str, Any]) -> tuple[Any, str]:
    """The sheet and the absolute A1 address a Calc step aims at."""
    sheets = doc.getSheets()
    if "name" in step:
        ranges = doc.NamedRanges
        if not ranges.hasByName(step["name"]):
            raise LookupError(f"no defined name {step['name']!r}")
        addr = ranges.getByName(step["name"]).getReferredCells().getRangeAddress()
        sheet = sheets.getByIndex(addr.Sheet)
        dr, dc = step.get("offset", (0, 0))
        cell = sheet.getCellByPosition(addr.StartColumn + dc, addr.StartRow + dr)
    else:
        sheet = sheets.getByName(step["sheet"]) if "sheet" in step else sheets.getByIndex(0)
        cell = sheet.getCellRangeByName(step["cell"])
    return sheet, cell.AbsoluteName


def calc_step(office: Office, doc: Any, step: dict[str, Any]) -> None:
    """Carry out one Calc step: select a cell and type into it, or unprotect a sheet."""
    if "unprotect" in step:
        doc.getSheets().getByName(step["unprotect"]).unprotect("")
        return
    sheet, address = _calc_target(doc, step)
    controller = doc.getCurrentController()
    controller.setActiveSheet(sheet)
    office.dispatch(doc, ".uno:GoToCell", ToPoint=address)
    office.dispatch(doc, ".uno:EnterString", StringName=step["type"])


def _paragraphs(text: Any) -> Any:
    """Every paragraph of a text, descending into tables."""
    enum = text.createEnumeration()
    while enum.hasMoreElements():
        element = enum.nextElement()
        if element.supportsService("com.sun.star.text.TextTable"):
            for name in element.getCellNames():
                yield from _paragraphs(element.getCellByName(name))
        else:
            yield element


def _inputs(doc: Any) -> Any:
    """``(portion, bookmarks open there)`` for every input: an Input field or content control.

    LibreOffice 7.4 imports a plain-text content control as an Input field (whose grab bag
    keeps the ``w:alias``) and drop-downs, dates and check boxes as content controls without
    Tag or Alias properties (those came in 7.5); the bookmark around each of our controls
    survives the import, so it is what names them here.
    """
    for para in _paragraphs(doc.getText()):
        open_marks: list[str] = []
        for portion in para.createEnumeration():
            kind = portion.TextPortionType
            if kind == "Bookmark":
                name = portion.Bookmark.getName()
                if portion.IsStart:
                    open_marks.append(name)
                elif name in open_marks:
                    open_marks.remove(name)
            elif kind == "ContentControl" or (
                    kind == "TextField"
                    and portion.TextField.supportsService("com.sun.star.text.TextField.Input")):
                yield portion, tuple(open_marks)


def _names(portion: Any) -> set[str]:
    """The tag and alias an input carries, where this LibreOffice keeps them."""
    if portion.TextPortionType == "ContentControl":
        control = portion.ContentControl
        info = control.getPropertySetInfo()
        return {control.getPropertyValue(n) for n in ("Tag", "Alias") if info.hasPropertyByName(n)}
    grab = {p.Name: p.Value for p in portion.TextField.InteropGrabBag}
    return {str(grab[n]) for n in ("ooxml:CT_SdtPr_alias", "ooxml:CT_SdtPr_tag") if n in grab}


def _find_input(doc: Any, key: str) -> Any:
    """The Input field or content control in the bookmark ``key``, or tagged or titled so."""
    named = None
    for portion, marks in _inputs(doc):
        if key in marks:
            return portion
        if named is None and key in _names(portion):
            named = portion
    if named is None:
        raise LookupError(f"no input {key!r}")
    return named


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


NEWLINES = {"enter": ".uno:InsertPara", "shift+enter": ".uno:InsertLinebreak"}


def writer_step(office: Office, doc: Any, step: dict[str, Any]) -> None:
    """Click into an input, select what it shows and type the lines, a key press between.

    ``"newline"`` is the key pressed between lines: ``"enter"`` (the default) or
    ``"shift+enter"``. In an Input field the cursor goes inside the field and its whole text
    is selected, as a person selects the grey placeholder before typing over it; with
    ``"select": "around"`` the field itself is selected, from outside.
    """
    portion = _find_input(doc, step["control"])
    view = doc.getCurrentController().getViewCursor()
    if step.get("select") == "around":
        if portion.TextPortionType != "TextField":
            raise ValueError(f"{step['control']!r} is not an Input field")
        view.gotoRange(portion.TextField.getAnchor().getStart(), False)
        view.goRight(1, True)  # the whole field, as one character
    elif portion.TextPortionType == "ContentControl":
        anchor = portion.ContentControl.getAnchor()
        view.gotoRange(anchor.getStart(), False)
        view.gotoRange(anchor.getEnd(), True)
    else:
        field = portion.TextField
        view.gotoRange(field.getAnchor().getStart(), False)
        view.goRight(1, False)  # over the field's start: now inside it
        view.goRight(_utf16_len(field.Content), True)
    newline = NEWLINES[step.get("newline", "enter")]
    for i, line in enumerate(step["lines"]):
        if i:
            office.dispatch(doc, newline)
        if line:
            office.dispatch(doc, ".uno:InsertText", Text=line)


def run(job: dict[str, Any], office: Office) -> str:
    """Open, carry out every step, save; return the saved path."""
    source, target = Path(job["open"]), Path(job["save"])
    doc = office.open(source)
    try:
        is_calc = doc.supportsService("com.sun.star.sheet.SpreadsheetDocument")
        for step in job.get("steps", []):
            (calc_step if is_calc else writer_step)(office, doc, step)
        office.save(doc, target)
    finally:
        with contextlib.suppress(Exception):  # already gone if soffice died
            doc.close(True)
    office.desktop.getFrames()  # raises DisposedException if closing took soffice down
    return str(target)


def main() -> int:
    """Read the job from standard input, run it, print the outcome.

    soffice now and then dies on closing a document it was driven in; the job it was on is
    then run again in a new soffice (the saved file is only taken from a job that finished).
    """
    request = json.load(sys.stdin)
    profile = Path(request["profile"])
    office = Office(profile)
    saved: list[str] = []
    try:
        for job in request["jobs"]:
            for attempt in range(3):
                try:
                    saved.append(run(job, office))
                    break
                except DisposedException:
                    if attempt == 2:
                        raise
                    office.close()
                    office = Office(profile)
    except Exception as exc:
        traceback.print_exc()
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        return 1
    finally:
        office.close()
    print(json.dumps({"saved": saved}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
