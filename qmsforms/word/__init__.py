"""Controlled Word forms: issue fillable .docx blanks, fill them, read and validate them back.

Every input is a content control tagged with the field name (SPEC §3.2) and wrapped in a
bookmark of the same name; the form's identity lives in custom document properties, as in
workbooks. Values are normalised and validated exactly as workbook values are, and problems
come back as the same `Issue`s, located by content-control tag and position.
"""

from .blank import build_word_blank, issue_word_blank
from .fill import fill_word
from .props import read_word_identity, write_word_identity
from .read import WordExtraction, extract_word, read_word
from .validate import validate_word, validate_word_file

__all__ = [
    "WordExtraction",
    "build_word_blank",
    "extract_word",
    "fill_word",
    "issue_word_blank",
    "read_word",
    "read_word_identity",
    "validate_word",
    "validate_word_file",
    "write_word_identity",
]
