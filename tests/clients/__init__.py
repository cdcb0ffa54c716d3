"""Office programs nobody here wrote, driven as clients of the forms qmsforms issues.

`office` runs a LibreOffice session through UNO that types into cells and content controls
the way a person does; `gnumeric` re-saves a workbook with Gnumeric's ``ssconvert``.
"""
