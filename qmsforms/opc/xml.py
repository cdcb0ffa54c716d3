"""The one XML parser for package parts, and custom document properties read and written.

lxml is imported here only, so a command that never parses package XML with it does not pay
for loading it.
"""

from __future__ import annotations

from lxml import etree

from . import CUSTOM_NS, FMTID, VT_NS

PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                         huge_tree=False, remove_blank_text=False)
"""The parser for package XML: it never resolves entities, loads a DTD or fetches anything
(the safety gate refuses DTDs before a file gets here; this is the second lock)."""


def custom_properties_xml(props: dict[str, str]) -> bytes:
    """``docProps/custom.xml`` holding ``props`` as text properties, in order."""
    nsmap: dict[str | None, str] = {None: CUSTOM_NS, "vt": VT_NS}
    root = etree.Element(f"{{{CUSTOM_NS}}}Properties",
                         nsmap=nsmap)  # type: ignore[arg-type]  # lxml-stubs: no None prefix
    for pid, (name, value) in enumerate(props.items(), start=2):
        prop = etree.SubElement(root, f"{{{CUSTOM_NS}}}property", fmtid=FMTID, pid=str(pid),
                                name=name)
        etree.SubElement(prop, f"{{{VT_NS}}}lpwstr").text = value
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def parse_custom_properties(blob: bytes) -> dict[str, str]:
    """Name -> text of every property in a ``docProps/custom.xml``.

    A property's value is its first element in the ``vt:`` namespace; comments, processing
    instructions and other elements an editor or a script put inside the property are skipped,
    and so are comments inside the value's text. Raises ``etree.XMLSyntaxError`` on a part
    that is not XML.
    """
    root = etree.fromstring(blob, PARSER)
    out: dict[str, str] = {}
    for prop in root.iter(f"{{{CUSTOM_NS}}}property"):
        name = prop.get("name")
        value = next((child for child in prop
                      if isinstance(child.tag, str) and child.tag.startswith(f"{{{VT_NS}}}")),
                     None)
        if name and value is not None:
            out[name] = "".join(str(text) for text in value.itertext()).strip()
    return out
