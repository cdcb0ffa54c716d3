"""A workbook or document printed to PDF through LibreOffice (``soffice --headless``).

The review pack goes to the meeting as a PDF too. LibreOffice is not a dependency of qmsforms:
when it is not installed, or the conversion fails, `to_pdf` raises `PdfError` saying so in
Chinese and English. Each conversion runs with a private, temporary LibreOffice profile
(``-env:UserInstallation``): a profile shared with a running LibreOffice, or with another
conversion, makes soffice exit 0 having written nothing. Output goes to a temporary folder
first and is moved into place, because soffice cannot write beside its input under the same
name and reports several failures with exit code 0 — the PDF's existence is what counts.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .issues import QmsFormsError

log = logging.getLogger(__name__)

SUFFIXES = (".xlsx", ".docx")
TIMEOUT = 180.0
"""Seconds one conversion may take (a first start of LibreOffice builds its profile)."""


class PdfError(QmsFormsError):
    """The PDF could not be made (no LibreOffice, a failed or timed-out conversion)."""


def soffice_binary() -> str | None:
    """The LibreOffice executable on ``PATH`` (``soffice``, else ``libreoffice``), or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdf(path: str | os.PathLike[str], out_dir: str | os.PathLike[str] | None = None, *,
           timeout: float = TIMEOUT) -> Path:
    """Print ``path`` (.xlsx or .docx) to ``<out_dir or its folder>/<stem>.pdf``; returns it.

    An existing PDF of that name is replaced. Raises `PdfError` when LibreOffice is missing,
    fails, takes longer than ``timeout`` seconds or writes nothing.
    """
    source = Path(path)
    if source.suffix.lower() not in SUFFIXES or not source.is_file():
        raise PdfError(f"{source.name}: only an existing .xlsx or .docx file can be printed "
                       "to PDF", f"{source.name}:只能把已存在的 .xlsx 或 .docx 文件转为 PDF")
    binary = soffice_binary()
    if binary is None:
        raise PdfError("LibreOffice (soffice) is not installed: install it to write PDFs, or "
                       "print the workbook from Excel or WPS",
                       "未安装 LibreOffice(soffice),无法生成 PDF;请安装,或用 Excel / WPS "
                       "打印该文件")
    target_dir = Path(out_dir) if out_dir is not None else source.parent
    target = target_dir / f"{source.stem}.pdf"
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PdfError(f"{target_dir}: the PDF cannot be written there: {exc}",
                       f"{target_dir}:无法在此写入 PDF:{exc}") from exc
    with tempfile.TemporaryDirectory(prefix="qmsforms-pdf-") as tmp:
        profile = Path(tmp) / "profile"
        out = Path(tmp) / "out"
        command = [binary, f"-env:UserInstallation={profile.as_uri()}", "--headless",
                   "--norestore", "--convert-to", "pdf", "--outdir", str(out), str(source)]
        log.info("printing %s to PDF", source.name)
        try:
            result = subprocess.run(command, capture_output=True, text=True,
                                    timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise PdfError(f"{source.name}: LibreOffice took longer than {timeout:g} s to "
                           "print it to PDF",
                           f"{source.name}:LibreOffice 转换 PDF 超过 {timeout:g} 秒") from exc
        except OSError as exc:
            raise PdfError(f"LibreOffice could not be started: {exc}",
                           f"无法启动 LibreOffice:{exc}") from exc
        produced = out / f"{source.stem}.pdf"
        if result.returncode != 0 or not produced.is_file():
            detail = " ".join((result.stderr or result.stdout or "").split())[:300]
            raise PdfError(f"{source.name}: LibreOffice could not print it to PDF (exit "
                           f"{result.returncode}): {detail or 'no output'}",
                           f"{source.name}:LibreOffice 未能生成 PDF(退出码 "
                           f"{result.returncode}):{detail or '无输出'}")
        try:
            shutil.move(str(produced), target)
        except OSError as exc:
            raise PdfError(f"{target}: the PDF cannot be written there: {exc}",
                           f"{target}:无法在此写入 PDF:{exc}") from exc
    return target
