"""A corpus of hostile and broken .xlsx/.docx files, for testing qmsforms.safety and its callers.

Every ``write_*`` function writes one file into the given directory and returns its path;
`CASES` maps a case name to (writer, expected issue code) and `build_corpus` writes them all.
Everything is built in memory from one openpyxl workbook and a minimal docx, with fixed zip
timestamps, so the corpus is deterministic; the slowest case (the 400 MB zip bomb) takes ~1 s.
"""

from __future__ import annotations

import functools
import io
import random
import re
import struct
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl

Members = list[tuple[str, bytes]]
Writer = Callable[[Path], Path]

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DATE = (2024, 1, 1, 0, 0, 0)

CT_XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
CT_XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"

DOCX_MEMBERS: Members = [
    ("[Content_Types].xml", (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        b'<Default Extension="rels" '
        b'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        b'<Default Extension="xml" ContentType="application/xml"/>'
        b'<Override PartName="/word/document.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
    )),
    ("_rels/.rels", (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Target="word/document.xml" Type="http://schemas.openxmlformats'
        b'.org/officeDocument/2006/relationships/officeDocument"/></Relationships>'
    )),
    ("word/document.xml", (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body><w:p><w:r><w:t>Inspection record</w:t></w:r></w:p></w:body></w:document>"
    )),
]


# -- building blocks -------------------------------------------------------------------------

def zip_bytes(members: Members, *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of ``members`` (name, data) in order, with fixed timestamps."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # duplicate names are on purpose
        with zipfile.ZipFile(buf, "w") as zf:
            for name, data in members:
                info = zipfile.ZipInfo(name, date_time=_DATE)
                info.compress_type = compression
                zf.writestr(info, data)
    return buf.getvalue()


@functools.lru_cache(maxsize=1)
def _xlsx_members() -> tuple[tuple[str, bytes], ...]:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Form"
    ws["A1"] = "Inspection record"
    ws["A2"] = "Lot"
    ws["B2"] = "L-0001"
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(buf) as zf:
        members = [(i.filename, zf.read(i)) for i in zf.infolist()]
    stamp = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
    return tuple((n, stamp.sub(b"2024-01-01T00:00:00Z", d)) for n, d in members)


def xlsx_members() -> Members:
    """The members of a small, valid openpyxl workbook (deterministic)."""
    return list(_xlsx_members())


def xlsx_bytes(replace: dict[str, bytes] | None = None, *, extra: Members | None = None,
               drop: tuple[str, ...] = ()) -> bytes:
    """A valid workbook, with members replaced, added (``extra``) or dropped."""
    replace = replace or {}
    members = [(n, replace.get(n, d)) for n, d in xlsx_members() if n not in drop]
    return zip_bytes(members + (extra or []))


def _write(directory: Path, name: str, data: bytes) -> Path:
    path = Path(directory) / name
    path.write_bytes(data)
    return path


def _member(name: str) -> bytes:
    return dict(xlsx_members())[name]


def _patch(data: bytes, member: str, *, flags: int | None = None,
           file_size: int | None = None) -> bytes:
    """Rewrite the general-purpose flags or the declared size of ``member``, in both headers."""
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        local = zf.getinfo(member).header_offset
        pos = zf.start_dir
    if flags is not None:
        struct.pack_into("<H", out, local + 6, flags)
    if file_size is not None:
        struct.pack_into("<I", out, local + 22, file_size)
    while out[pos:pos + 4] == b"PK\x01\x02":
        n, m, k = struct.unpack_from("<HHH", out, pos + 28)
        if out[pos + 46:pos + 46 + n].decode() == member:
            if flags is not None:
                struct.pack_into("<H", out, pos + 8, flags)
            if file_size is not None:
                struct.pack_into("<I", out, pos + 24, file_size)
        pos += 46 + n + m + k
    return bytes(out)


def _with_dtd(xml: bytes, dtd: bytes) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + dtd + xml


# -- clean files -----------------------------------------------------------------------------

def write_clean_xlsx(directory: Path) -> Path:
    """A small valid workbook; inspect_file must accept it."""
    return _write(directory, "clean.xlsx", xlsx_bytes())


def write_clean_docx(directory: Path) -> Path:
    """A minimal valid Word document; inspect_file must accept it."""
    return _write(directory, "clean.docx", zip_bytes(DOCX_MEMBERS))


# -- hostile files ---------------------------------------------------------------------------

CASES: dict[str, tuple[Writer, str]] = {}


def _case(code: str) -> Callable[[Writer], Writer]:
    def register(fn: Writer) -> Writer:
        CASES[fn.__name__.removeprefix("write_")] = (fn, code)
        return fn
    return register


@_case("EMPTY_FILE")
def write_empty(d: Path) -> Path:
    return _write(d, "empty.xlsx", b"")


@_case("NOT_AN_OFFICE_FILE")
def write_text_as_xlsx(d: Path) -> Path:
    return _write(d, "text.xlsx", "批号,数量\nL-0001,12\n".encode())


@_case("NOT_AN_OFFICE_FILE")
def write_html_as_xlsx(d: Path) -> Path:
    html = b"<html><head><title>Export</title></head><body><table><tr><td>1</td></tr></table>"
    return _write(d, "html.xlsx", html + b"</body></html>\n")


@_case("NOT_AN_OFFICE_FILE")
def write_pdf_as_xlsx(d: Path) -> Path:
    return _write(d, "pdf.xlsx", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n")


@_case("NOT_AN_OFFICE_FILE")
def write_png_as_xlsx(d: Path) -> Path:
    return _write(d, "png.xlsx", b"\x89PNG\r\n\x1a\n" + bytes(200))


@_case("LEGACY_XLS")
def write_legacy_xls(d: Path) -> Path:
    return _write(d, "legacy.xlsx", OLE2_MAGIC + bytes(4096 - 8))


@_case("NOT_AN_OFFICE_FILE")
def write_legacy_doc(d: Path) -> Path:
    return _write(d, "legacy.docx", OLE2_MAGIC + bytes(4096 - 8))


@_case("ENCRYPTED")
def write_ole_encrypted(d: Path) -> Path:
    body = bytearray(OLE2_MAGIC + bytes(4096 - 8))
    name = "EncryptedPackage".encode("utf-16-le")
    body[1024:1024 + len(name)] = name
    return _write(d, "encrypted.xlsx", bytes(body))


@_case("CORRUPT_FILE")
def write_truncated(d: Path) -> Path:
    data = xlsx_bytes()
    return _write(d, "truncated.xlsx", data[: len(data) // 2])


@_case("CORRUPT_FILE")
def write_flipped_deflate(d: Path) -> Path:
    data = bytearray(xlsx_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo("xl/styles.xml")
    n, m = struct.unpack_from("<HH", data, info.header_offset + 26)
    middle = info.header_offset + 30 + n + m + info.compress_size // 2
    for i in range(middle, middle + 4):
        data[i] ^= 0xFF
    return _write(d, "flipped.xlsx", bytes(data))


@_case("CORRUPT_FILE")
def write_crc_error(d: Path) -> Path:
    data = zip_bytes(xlsx_members(), compression=zipfile.ZIP_STORED)
    at = data.index(b"Inspection record")
    return _write(d, "crc.xlsx", data[:at] + b"Inspektion" + data[at + 10:])


@_case("NOT_AN_OFFICE_FILE")
def write_no_content_types(d: Path) -> Path:
    return _write(d, "no_ct.xlsx", xlsx_bytes(drop=("[Content_Types].xml",)))


@_case("NOT_AN_OFFICE_FILE")
def write_plain_zip(d: Path) -> Path:
    return _write(d, "plain_zip.xlsx", zip_bytes([("readme.txt", b"hello\n")]))


@_case("NOT_AN_OFFICE_FILE")
def write_no_workbook(d: Path) -> Path:
    return _write(d, "no_workbook.xlsx", xlsx_bytes(drop=("xl/workbook.xml",)))


@_case("NOT_AN_OFFICE_FILE")
def write_polyglot(d: Path) -> Path:
    return _write(d, "polyglot.xlsx", b"GIF89a" + bytes(64) + xlsx_bytes())


@_case("CORRUPT_FILE")
def write_empty_content_types(d: Path) -> Path:
    return _write(d, "empty_ct.xlsx", xlsx_bytes({"[Content_Types].xml": b""}))


@_case("WRONG_FILE_KIND")
def write_docx_named_xlsx(d: Path) -> Path:
    return _write(d, "word.xlsx", zip_bytes(DOCX_MEMBERS))


@_case("WRONG_FILE_KIND")
def write_xlsx_named_docx(d: Path) -> Path:
    return _write(d, "excel.docx", xlsx_bytes())


@_case("MACRO_FILE")
def write_xlsm(d: Path) -> Path:
    return _write(d, "macro.xlsm", xlsx_bytes())


@_case("MACRO_FILE")
def write_vba_project(d: Path) -> Path:
    vba = OLE2_MAGIC + bytes(1016)
    return _write(d, "vba.xlsx", xlsx_bytes(extra=[("xl/vbaProject.bin", vba)]))


@_case("MACRO_FILE")
def write_macro_content_type(d: Path) -> Path:
    ct = _member("[Content_Types].xml").replace(CT_XLSX_MAIN.encode(), CT_XLSM_MAIN.encode())
    return _write(d, "macro_ct.xlsx", xlsx_bytes({"[Content_Types].xml": ct}))


@_case("ZIP_BOMB")
def write_zip_bomb(d: Path, megabytes: int = 400) -> Path:
    """One member of ``megabytes`` MiB of zeros, deflated to ~1/1000 of that."""
    path = Path(d) / "bomb.xlsx"
    zeros = bytes(2**20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in xlsx_members():
            if name != "xl/worksheets/sheet1.xml":
                zf.writestr(zipfile.ZipInfo(name, date_time=_DATE), data, zipfile.ZIP_DEFLATED)
        info = zipfile.ZipInfo("xl/worksheets/sheet1.xml", date_time=_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w") as out:
            for _ in range(megabytes):
                out.write(zeros)
    return path


@_case("ZIP_BOMB")
def write_ratio_bomb(d: Path) -> Path:
    return _write(d, "ratio.xlsx", xlsx_bytes(extra=[("xl/media/image1.png", bytes(2 * 2**20))]))


@_case("ZIP_BOMB")
def write_lying_sizes(d: Path) -> Path:
    """sheet1.xml inflates to 20 MB; the zip directory declares its original few hundred bytes."""
    sheet = _member("xl/worksheets/sheet1.xml")
    data = xlsx_bytes({"xl/worksheets/sheet1.xml": sheet + b" " * (20 * 2**20)})
    return _write(d, "lying.xlsx", _patch(data, "xl/worksheets/sheet1.xml", file_size=len(sheet)))


@_case("ZIP_BOMB")
def write_too_many_members(d: Path) -> Path:
    extra = [(f"xl/media/pad{i:04d}.bin", b"x") for i in range(6000)]
    members = xlsx_members() + extra
    return _write(d, "many.xlsx", zip_bytes(members, compression=zipfile.ZIP_STORED))


@_case("UNSAFE_XML")
def write_billion_laughs(d: Path) -> Path:
    dtd = ['<!DOCTYPE lolz [<!ENTITY lol0 "lol">']
    dtd += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    wb = _member("xl/workbook.xml").replace(b'name="Form"', b'name="&lol9;"')
    body = _with_dtd(wb, ("".join(dtd) + "]>\n").encode())
    return _write(d, "laughs.xlsx", xlsx_bytes({"xl/workbook.xml": body}))


@_case("UNSAFE_XML")
def write_xxe(d: Path) -> Path:
    dtd = b'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    sheet = _member("xl/worksheets/sheet1.xml").replace(b"L-0001", b"&xxe;")
    return _write(d, "xxe.xlsx", xlsx_bytes({"xl/worksheets/sheet1.xml": _with_dtd(sheet, dtd)}))


@_case("UNSAFE_XML")
def write_utf16_dtd(d: Path) -> Path:
    """The DTD hidden from a plain byte search by encoding the part as UTF-16."""
    dtd = '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>'
    text = '<?xml version="1.0" encoding="UTF-16"?>' + dtd + _member("xl/styles.xml").decode()
    return _write(d, "utf16.xlsx", xlsx_bytes({"xl/styles.xml": text.encode("utf-16")}))


@_case("UNSAFE_XML")
def write_utf7_dtd(d: Path) -> Path:
    """The DTD spelled in UTF-7 ("+ADw-" is "<"), invisible to a byte search for "<!DOCTYPE"."""
    dtd = b'+ADw-+ACE-DOCTYPE x +AFs-+ADw-+ACE-ENTITY a +ACI-aaaa+ACI-+AD4-+AF0-+AD4-'
    body = b'<?xml version="1.0" encoding="UTF-7"?>' + dtd + _member("xl/styles.xml")
    return _write(d, "utf7.xlsx", xlsx_bytes({"xl/styles.xml": body}))


@_case("UNSAFE_XML")
def write_unknown_encoding(d: Path) -> Path:
    body = b'<?xml version="1.0" encoding="x-no-such-codec"?>' + _member("xl/styles.xml")
    return _write(d, "codec.xlsx", xlsx_bytes({"xl/styles.xml": body}))


@_case("UNSAFE_XML")
def write_long_encoding_name(d: Path) -> Path:
    """An encoding name that runs past the gate's look-ahead (a reader looking further would
    decide for itself what the part says)."""
    body = (b'<?xml version="1.0" encoding="' + b"x" * 5000 + b'"?>'
            + re.sub(rb"^<\?xml[^>]*\?>", b"", _member("xl/worksheets/sheet1.xml")))
    return _write(d, "long-codec.xlsx", xlsx_bytes({"xl/worksheets/sheet1.xml": body}))


@_case("UNSAFE_XML")
def write_late_dtd(d: Path) -> Path:
    """The DTD pushed past the first 64 KiB by a long comment (and across a 1 MiB chunk)."""
    filler = random.Random(0).randbytes(2**19).hex().encode()  # 1 MiB, incompressible enough
    comment = b"<!--" + filler[:-20] + b"-->"
    dtd = b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    rels = _member("_rels/.rels")
    return _write(d, "late_dtd.xlsx", xlsx_bytes({"_rels/.rels": comment + dtd + rels}))


@_case("ABSURD_DIMENSIONS")
def write_absurd_dimension(d: Path) -> Path:
    sheet = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"',
                   _member("xl/worksheets/sheet1.xml"))
    return _write(d, "absurd.xlsx", xlsx_bytes({"xl/worksheets/sheet1.xml": sheet}))


@_case("ABSURD_DIMENSIONS")
def write_columns_beyond_xfd(d: Path) -> Path:
    sheet = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:ZZZZ2"',
                   _member("xl/worksheets/sheet1.xml"))
    return _write(d, "wide.xlsx", xlsx_bytes({"xl/worksheets/sheet1.xml": sheet}))


@_case("CORRUPT_FILE")
def write_path_traversal(d: Path) -> Path:
    return _write(d, "traversal.xlsx", xlsx_bytes(extra=[("../evil.txt", b"pwned\n")]))


@_case("CORRUPT_FILE")
def write_absolute_name(d: Path) -> Path:
    return _write(d, "absolute.xlsx", xlsx_bytes(extra=[("/etc/cron.d/evil", b"* * * * *\n")]))


@_case("CORRUPT_FILE")
def write_backslash_name(d: Path) -> Path:
    return _write(d, "backslash.xlsx", xlsx_bytes(extra=[("xl\\..\\evil.xml", b"<x/>")]))


@_case("CORRUPT_FILE")
def write_duplicate_member(d: Path) -> Path:
    extra = [("xl/worksheets/sheet1.xml", _member("xl/worksheets/sheet1.xml"))]
    return _write(d, "duplicate.xlsx", xlsx_bytes(extra=extra))


@_case("CORRUPT_FILE")
def write_bzip2_member(d: Path) -> Path:
    data = zip_bytes(xlsx_members(), compression=zipfile.ZIP_BZIP2)
    return _write(d, "bzip2.xlsx", data)


@_case("ENCRYPTED")
def write_encrypted_flag(d: Path) -> Path:
    return _write(d, "zip_encrypted.xlsx", _patch(xlsx_bytes(), "xl/workbook.xml", flags=1))


def build_corpus(directory: str | Path) -> dict[str, tuple[Path, str]]:
    """Write every case into ``directory``: case name -> (path, expected issue code name)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return {name: (writer(directory), code) for name, (writer, code) in CASES.items()}
