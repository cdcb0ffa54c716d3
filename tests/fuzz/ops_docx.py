"""Operators for Word forms: content-control tags and aliases, the placeholder flag, runs,
nested controls, line breaks and the identity in the custom properties."""

from __future__ import annotations

import random
from copy import deepcopy

from . import package as pk
from .mutation import Expect, Mutation, operator
from .seeds import Seed

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W14 = "http://schemas.microsoft.com/office/word/2010/wordml"
DOCUMENT = "word/document.xml"
CUSTOM = "docProps/custom.xml"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"


def w(tag: str) -> str:
    """Clark name of a WordprocessingML element or attribute."""
    return f"{{{W}}}{tag}"


class Document:
    """The document part of a seed, parsed; `build` writes it back into the package."""

    def __init__(self, seed: Seed) -> None:
        """Parse ``word/document.xml`` of ``seed``."""
        self.members = pk.read(seed.data)
        self.root = pk.parse(pk.get(self.members, DOCUMENT) or b"")

    def build(self) -> bytes:
        """The package with the edited document part."""
        return pk.build(pk.put(self.members, DOCUMENT, pk.dump(self.root)))

    def controls(self) -> list[pk.etree._Element]:
        """Every content control that carries a tag."""
        return [s for s in self.root.iter(w("sdt")) if tag_of(s)]

    def filled(self) -> list[pk.etree._Element]:
        """Tagged controls that show a value (no placeholder flag, some text)."""
        return [s for s in self.controls() if not flagged(s) and text_of(s).strip()
                and kind_of(s) != "checkbox"]


def tag_of(sdt: pk.etree._Element) -> str | None:
    """The ``w:tag`` value of a control."""
    node = sdt.find(f"{w('sdtPr')}/{w('tag')}")
    return None if node is None else node.get(w("val"))


def flagged(sdt: pk.etree._Element) -> bool:
    """Whether the control says it shows its placeholder."""
    return sdt.find(f"{w('sdtPr')}/{w('showingPlcHdr')}") is not None


def kind_of(sdt: pk.etree._Element) -> str:
    """``checkbox``, ``date``, ``dropdown`` or ``text``."""
    pr = sdt.find(w("sdtPr"))
    if pr.find(f"{{{W14}}}checkbox") is not None:
        return "checkbox"
    if pr.find(w("date")) is not None:
        return "date"
    if pr.find(w("dropDownList")) is not None:
        return "dropdown"
    return "text"


def text_of(sdt: pk.etree._Element) -> str:
    """The text shown in a control."""
    content = sdt.find(w("sdtContent"))
    return "".join(t.text or "" for t in content.iter(w("t"))) if content is not None else ""


@operator("sdt_tag", "docx")
def sdt_tag(rng: random.Random, seed: Seed) -> Mutation:
    """A control's tag renamed or emptied, or given the tag of another control."""
    doc = Document(seed)
    controls = doc.controls()
    sdt = rng.choice(controls)
    node = sdt.find(f"{w('sdtPr')}/{w('tag')}")
    old = node.get(w("val"))
    variant = rng.choice(["renamed", "upper", "emptied", "removed", "other-tag"])
    if variant == "removed":
        node.getparent().remove(node)
        new = None
    else:
        new = {"renamed": f"{old}_old", "upper": old.upper(), "emptied": "",
               "other-tag": tag_of(rng.choice(controls))}[variant]
        node.set(w("val"), new)
    return Mutation(doc.build(), Expect.KEEP, f"tag {old} -> {new!r} ({variant})")


@operator("sdt_duplicate", "docx")
def sdt_duplicate(rng: random.Random, seed: Seed) -> Mutation | None:
    """A filled control copied next to itself, keeping its tag, with the same or other text."""
    doc = Document(seed)
    filled = doc.filled()
    if not filled:
        return None
    sdt = rng.choice(filled)
    twin = deepcopy(sdt)
    variant = rng.choice(["same-text-after", "other-text-after", "other-text-before"])
    if variant.startswith("other-text"):
        texts = list(twin.find(w("sdtContent")).iter(w("t")))
        texts[0].text = "副本 " + (texts[0].text or "")
    for mark in [*twin.iter(w("bookmarkStart")), *twin.iter(w("bookmarkEnd"))]:
        mark.getparent().remove(mark)
    if variant.endswith("before"):
        sdt.addprevious(twin)
    else:
        sdt.addnext(twin)
    return Mutation(doc.build(), Expect.KEEP, f"control {tag_of(sdt)} duplicated ({variant})")


@operator("sdt_alias", "docx")
def sdt_alias(rng: random.Random, seed: Seed) -> Mutation:
    """A control's alias renamed, removed or given another control's alias."""
    doc = Document(seed)
    controls = doc.controls()
    sdt = rng.choice(controls)
    node = sdt.find(f"{w('sdtPr')}/{w('alias')}")
    if node is None:
        return Mutation(doc.build(), Expect.SAME, f"control {tag_of(sdt)} has no alias")
    variant = rng.choice(["renamed", "removed", "other-alias"])
    if variant == "removed":
        node.getparent().remove(node)
    elif variant == "renamed":
        node.set(w("val"), "别名 " + (node.get(w("val")) or ""))
    else:
        other = rng.choice(controls).find(f"{w('sdtPr')}/{w('alias')}")
        node.set(w("val"), other.get(w("val")) if other is not None else "")
    return Mutation(doc.build(), Expect.KEEP, f"alias of {tag_of(sdt)} {variant}")


@operator("placeholder_flag", "docx")
def placeholder_flag(rng: random.Random, seed: Seed) -> Mutation | None:
    """``w:showingPlcHdr`` set on a filled control, or removed from a blank one."""
    doc = Document(seed)
    if rng.random() < 0.6:
        filled = doc.filled()
        if not filled:
            return None
        sdt = rng.choice(filled)
        pr = sdt.find(w("sdtPr"))
        pr.find(w("id")).addnext(pk.etree.Element(w("showingPlcHdr")))
        return Mutation(doc.build(), Expect.KEEP,
                        f"flag set on {tag_of(sdt)} showing {text_of(sdt)[:20]!r} (on-filled)")
    blank = [s for s in doc.controls() if flagged(s)]
    if not blank:
        return None
    sdt = rng.choice(blank)
    flag = sdt.find(f"{w('sdtPr')}/{w('showingPlcHdr')}")
    flag.getparent().remove(flag)
    return Mutation(doc.build(), Expect.SAME, f"flag removed from {tag_of(sdt)} (off-blank)")


def _split_run(rng: random.Random, run: pk.etree._Element) -> bool:
    """Split ``run`` in two at a random child (or inside a text); False if it cannot be."""
    rpr = run.find(w("rPr"))
    body = [c for c in run if c.tag != w("rPr")]
    if len(body) > 1 and rng.random() < 0.5:
        cut = rng.randrange(1, len(body))
    else:
        texts = [c for c in body if c.tag == w("t") and len(c.text or "") > 1]
        if not texts:
            return False
        t = rng.choice(texts)
        at = rng.randrange(1, len(t.text))
        tail = pk.etree.Element(w("t"))
        tail.text, t.text = t.text[at:], t.text[:at]
        tail.set(XML_SPACE, "preserve")
        t.set(XML_SPACE, "preserve")
        t.addnext(tail)
        body = [c for c in run if c.tag != w("rPr")]
        cut = body.index(tail)
    second = pk.etree.Element(w("r"))
    if rpr is not None:
        second.append(deepcopy(rpr))
    for child in body[cut:]:
        second.append(child)
    run.addnext(second)
    return True


@operator("run_split", "docx")
def run_split(rng: random.Random, seed: Seed) -> Mutation | None:
    """The runs of a filled control split (as Word does after an edit), breaks apart."""
    doc = Document(seed)
    filled = doc.filled()
    if not filled:
        return None
    sdt = rng.choice(filled)
    splits = 0
    for _ in range(rng.randint(1, 6)):
        runs = list(sdt.find(w("sdtContent")).iter(w("r")))
        if runs and _split_run(rng, rng.choice(runs)):
            splits += 1
    if not splits:
        return None
    return Mutation(doc.build(), Expect.SAME, f"{splits} runs split in {tag_of(sdt)}")


@operator("nested_sdt", "docx")
def nested_sdt(rng: random.Random, seed: Seed) -> Mutation | None:
    """A filled control's runs moved into an untagged control nested inside it."""
    doc = Document(seed)
    filled = [s for s in doc.filled() if kind_of(s) == "text"]
    if not filled:
        return None
    sdt = rng.choice(filled)
    content = sdt.find(w("sdtContent"))
    inner = pk.etree.Element(w("sdt"))
    pr = pk.etree.SubElement(inner, w("sdtPr"))
    pk.etree.SubElement(pr, w("id"), {w("val"): str(90000 + rng.randrange(9999))})
    if rng.random() < 0.5:
        pk.etree.SubElement(pr, w("alias"), {w("val"): "嵌套"})
    inner_content = pk.etree.SubElement(inner, w("sdtContent"))
    for child in list(content):
        if child.tag == w("r"):
            inner_content.append(child)
    content.append(inner)
    return Mutation(doc.build(), Expect.KEEP, f"text of {tag_of(sdt)} in a nested control")


@operator("break_spelling", "docx")
def break_spelling(rng: random.Random, seed: Seed) -> Mutation | None:
    """Line breaks of a multi-line control written as ``w:cr`` or typed ``textWrapping``."""
    doc = Document(seed)
    breaks = [br for sdt in doc.filled() for br in sdt.iter(w("br"))]
    if not breaks:
        return None
    chosen = rng.sample(breaks, rng.randint(1, len(breaks)))
    variant = rng.choice(["cr", "textWrapping"])
    for br in chosen:
        if variant == "cr":
            br.tag = w("cr")
        else:
            br.set(w("type"), "textWrapping")
    return Mutation(doc.build(), Expect.SAME, f"{len(chosen)} breaks as {variant}")


@operator("identity_alter", "docx")
def identity_alter(rng: random.Random, seed: Seed) -> Mutation:
    """The identity in the custom properties altered, one property at a time, or removed."""
    members = pk.read(seed.data)
    root = pk.parse(pk.get(members, CUSTOM) or b"")
    props = {p.get("name"): p for p in root}
    key = rng.choice(["form", "revision", "fingerprint", "instance_id", "lang", "drop-form",
                      "drop-all"])
    if key == "drop-all":
        members = [mm for mm in members if mm.name != CUSTOM]
        return Mutation(pk.build(members), Expect.KEEP, "custom properties removed")
    if key == "drop-form":
        root.remove(props["qmsforms.form"])
    else:
        value = props[f"qmsforms.{key}"][0]
        value.text = rng.choice(["x", "", "-", (value.text or "") + "x", " " + (value.text or "")])
    expect = Expect.SAME if key == "instance_id" else Expect.KEEP
    return Mutation(pk.build(pk.put(members, CUSTOM, pk.dump(root))), expect,
                    f"identity {key} altered")
