"""Controlled Word forms: issue fillable .docx blanks, fill them, read and validate them back.

Each module is imported where it is needed (`qmsforms.word.read`, `.validate`, `.blank` ...).
Every input is a content control tagged with the field name (SPEC §3.2) and wrapped in a
bookmark of the same name; the form's identity lives in custom document properties, as in
workbooks. Values are normalised and validated exactly as workbook values are, and problems
come back as the same `Issue`s, located by content-control tag and position.
"""
