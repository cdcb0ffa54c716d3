"""The package layer both wings share (Open Packaging Conventions, ECMA-376 Part 2).

`qmsforms.opc.parts` reads the parts of a package as a reader must see them (names without
regard to case, XML in UTF-8 whatever it was written in); `qmsforms.opc.xml` holds the one
hardened XML parser and reads and writes custom document properties. The namespaces both
formats use are named here; this module imports nothing, so naming one costs nothing.
"""

PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CUSTOM_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
APP_NS = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
SPREADSHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
WORD_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
CUSTOM_PART = "docProps/custom.xml"
FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"
"""The format id Office writes on every user-defined custom property."""
