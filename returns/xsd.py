"""Generate the CIN census XML schema for one collection year from the resolved spec.

The schema is derived, never hand-written: `specs/cin/tables.yaml` and the code sets are the one
source, and `specs/cin/xsd/CIN_<year>.xsd` are generated from them so that the writer validates its
output against exactly what the spec says (and a test fails when the committed files are stale).

Regenerate with `python -m csc_returns.returns.xsd` (`--check` only reports stale files).

How the spec maps to XML Schema:
- a table without `parent` sits under <Message> at its `xml` path; a table with one sits at its
  `xml` path inside the parent's record element, where the parent's `elements` says `@Table`;
- intermediate steps of a multi-step `xml` path become wrapper elements (ChildIdentifiers,
  Disabilities, FactorsIdentifiedAtAssessment, Reviews, ...); consecutive items sharing a step
  share the wrapper;
- a wrapper is mandatory when anything inside it is; a wrapper around a single repeating element
  must not be empty;
- a table whose only field has `xml: "."` is a value table: its record element holds the value.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field as dc_field
from functools import lru_cache
from pathlib import Path

from lxml import etree

from csc_returns.returns.spec import LOADABLE_YEARS, Field_, Spec, SpecError, Table, resolve, specs_root

XS_NS = "http://www.w3.org/2001/XMLSchema"
_XS = f"{{{XS_NS}}}"
YESNO_TYPE = "yesno"
# The booleans DfE defines as 0/1; LA systems commonly send true/false, which DfE rules accept too.
YESNO_VALUES = (("0", "False"), ("1", "True"), ("false", "False"), ("true", "True"))
# Python-only regex syntax that XML Schema does not understand (XSD patterns are implicitly anchored).
_NOT_XSD_REGEX = re.compile(r"^\^|(?<!\\)\$$|\(\?")


@dataclass
class _Node:
    """One element in the schema tree being built."""

    name: str
    kind: str  # "record" (table with fields), "value" (value table), "field", "wrapper", "root"
    min: int = 0
    max: int | None = 1  # None = unbounded
    field: Field_ | None = None
    table: Table | None = None
    children: list["_Node"] = dc_field(default_factory=list)


def _occurs(text: str, table: str) -> tuple[int, int | None]:
    m = re.fullmatch(r"([01])\.\.(1|n)", text)
    if not m:
        raise SpecError(f"cin {table}: occurs {text!r} must be one of 0..1, 1..1, 0..n, 1..n")
    return int(m.group(1)), (None if m.group(2) == "n" else 1)


def _insert(parent: _Node, path: str, leaf: _Node, where: str) -> None:
    """Put `leaf` at `path` under `parent`, creating or reusing wrapper elements on the way."""
    steps = path.split("/")
    if any(not s or s == "." for s in steps):
        raise SpecError(f"{where}: bad xml path {path!r}")
    node = parent
    for step in steps[:-1]:
        last = node.children[-1] if node.children else None
        if last is not None and last.kind == "wrapper" and last.name == step:
            node = last
            continue
        if any(c.name == step for c in node.children):
            # XSD sequences cannot interleave: a wrapper's contents must be contiguous in `elements`
            raise SpecError(f"{where}: {step!r} appears twice in the element order of {parent.name!r}")
        wrapper = _Node(step, "wrapper")
        node.children.append(wrapper)
        node = wrapper
    if any(c.name == steps[-1] for c in node.children):
        raise SpecError(f"{where}: element {steps[-1]!r} appears twice inside {node.name!r}")
    leaf.name = steps[-1]
    node.children.append(leaf)


def _value_field(table: Table) -> Field_ | None:
    dots = [f for f in table.fields if f.xml == "."]
    if not dots:
        return None
    if len(table.fields) != 1:
        raise SpecError(f"cin {table.name}: a value table (xml '.') must have exactly one field")
    return dots[0]


def _table_node(spec: Spec, table: Table) -> _Node:
    lo, hi = _occurs(table.occurs, table.name)
    value = _value_field(table)
    if value is not None:
        return _Node(table.name, "value", lo, hi, field=value, table=table)
    node = _Node(table.name, "record", lo, hi, table=table)
    where = f"cin {spec.year} {table.name}"
    listed: set[str] = set()
    for item in table.elements:
        listed.add(item)
        if item.startswith("@"):
            child = spec.tables.get(item[1:])
            if child is None:
                continue  # a nested table not collected this year (e.g. PreProceedingsandFGDM)
            if child.parent != table.name or not child.xml:
                raise SpecError(f"{where}: {item} is listed but {child.name} has parent {child.parent!r}")
            _insert(node, child.xml, _table_node(spec, child), where)
        else:
            f = table.field(item)
            _insert(node, f.xml or f.name, _Node(f.name, "field", int(f.required), 1, field=f), where)
    missing = [f.name for f in table.fields if f.name not in listed]
    missing += [f"@{t.name}" for t in spec.tables.values() if t.parent == table.name and f"@{t.name}" not in listed]
    if missing:
        raise SpecError(f"{where}: not placed in `elements`: {', '.join(missing)}")
    return node


def _settle_wrappers(node: _Node) -> None:
    """Wrappers are mandatory when their content is; a lone repeating element cannot be empty."""
    for c in node.children:
        _settle_wrappers(c)
    if node.kind == "wrapper":
        node.min = 1 if any(c.min >= 1 for c in node.children) else 0
        node.max = 1
        if len(node.children) == 1:
            node.children[0].min = max(node.children[0].min, 1)


def _tree(spec: Spec) -> _Node:
    root = _Node("Message", "root", 1, 1)
    for table in spec.tables.values():
        if table.parent is None:
            if not table.xml:
                raise SpecError(f"cin {table.name}: a top-level table needs an xml path from <Message>")
            _insert(root, table.xml, _table_node(spec, table), f"cin {spec.year} Message")
        elif table.parent not in spec.tables:
            raise SpecError(f"cin {spec.year} {table.name}: parent {table.parent!r} is not a table that year")
    _settle_wrappers(root)
    return root


# --------------------------------------------------------------------------- serialising
class _Writer:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.schema = etree.Element(_XS + "schema", nsmap={"xs": XS_NS})
        self.named_types: dict[str, etree._Element] = {}  # simple types, in order of first use
        self.complex_types: list[etree._Element] = []

    @staticmethod
    def _doc(parent: etree._Element, text: str) -> None:
        ann = etree.SubElement(parent, _XS + "annotation")
        etree.SubElement(ann, _XS + "documentation").text = text

    def _occurs_attrs(self, el: etree._Element, node: _Node) -> None:
        el.set("minOccurs", str(node.min))
        el.set("maxOccurs", "unbounded" if node.max is None else str(node.max))

    def _enum_type(self, name: str, values: list[tuple[str, str]]) -> str:
        if name not in self.named_types:
            st = etree.Element(_XS + "simpleType", name=name)
            r = etree.SubElement(st, _XS + "restriction", base="xs:string")
            for value, label in values:
                e = etree.SubElement(r, _XS + "enumeration", value=value)
                self._doc(e, label)
            self.named_types[name] = st
        return name

    def _value_type(self, el: etree._Element, f: Field_) -> None:
        """Set the element's type, or give it an anonymous restricted simple type."""
        where = f"cin {self.spec.year} field {f.name}"
        if f.type == "date":
            el.set("type", "xs:date")
            return
        if f.type == "bool":
            el.set("type", self._enum_type(YESNO_TYPE, list(YESNO_VALUES)))
            return
        if f.type == "code":
            if not f.codeset:
                raise SpecError(f"{where}: a code field needs a code set")
            codes = self.spec.codes(f.codeset)
            if not codes:
                raise SpecError(f"{where}: code set {f.codeset!r} has no codes in {self.spec.year}")
            el.set("type", self._enum_type(f"code_{f.codeset}", list(codes.items())))
            return
        facets: list[tuple[str, str]] = []
        if f.type == "int":
            base = "xs:integer"
            if f.min is not None:
                facets.append(("minInclusive", str(f.min)))
            if f.max is not None:
                facets.append(("maxInclusive", str(f.max)))
        else:  # id, string, upn, postcode: text with optional length and pattern
            base = "xs:string"
            if f.type == "id":
                facets.append(("minLength", "1"))
            if f.max_length is not None:
                facets.append(("maxLength", str(f.max_length)))
            if f.pattern is not None:
                if _NOT_XSD_REGEX.search(f.pattern):
                    raise SpecError(f"{where}: pattern {f.pattern!r} uses anchors or (?...), not valid in XSD")
                facets.append(("pattern", f.pattern))
        if not facets:
            el.set("type", base)
            return
        st = etree.SubElement(el, _XS + "simpleType")
        r = etree.SubElement(st, _XS + "restriction", base=base)
        for facet, value in facets:
            etree.SubElement(r, _XS + facet, value=value)

    def _sequence_of(self, node: _Node) -> etree._Element:
        seq = etree.Element(_XS + "sequence")
        for child in node.children:
            seq.append(self._element(child))
        return seq

    def _element(self, node: _Node) -> etree._Element:
        el = etree.Element(_XS + "element", name=node.name)
        self._occurs_attrs(el, node)
        if node.kind in ("field", "value"):
            f = node.field
            assert f is not None
            self._doc(el, f"{f.item}: {f.description}" if f.item else f.description)
            self._value_type(el, f)
        elif node.kind == "record":
            assert node.table is not None
            type_name = f"{node.table.name}Type"
            ct = etree.Element(_XS + "complexType", name=type_name)
            self.complex_types.append(ct)  # before its children: types appear in document order
            if node.table.description:
                self._doc(ct, node.table.description)
            ct.append(self._sequence_of(node))
            el.set("type", type_name)
        else:  # wrapper
            ct = etree.SubElement(el, _XS + "complexType")
            ct.append(self._sequence_of(node))
        return el

    def build(self, root: _Node) -> etree._Element:
        label = f"{self.spec.year - 1}-{str(self.spec.year)[2:]}"
        self.schema.append(
            etree.Comment(
                f" CIN census XML schema for collection year {self.spec.year} ({label}). Generated by "
                "csc_returns.returns.xsd from specs/cin/tables.yaml and the code sets; do not edit. "
            )
        )
        message = etree.SubElement(self.schema, _XS + "element", name="Message")
        ct = etree.SubElement(message, _XS + "complexType")
        ct.append(self._sequence_of(root))
        for t in self.complex_types:
            self.schema.append(t)
        for st in self.named_types.values():
            self.schema.append(st)
        return self.schema


def build_xsd(spec: Spec) -> bytes:
    """The CIN XML schema for the year `spec` was resolved for, as UTF-8 bytes."""
    if spec.return_ != "cin":
        raise SpecError(f"XML schemas are generated for the CIN census only, not {spec.return_}")
    schema = _Writer(spec).build(_tree(spec))
    out = etree.tostring(schema, pretty_print=True, xml_declaration=True, encoding="UTF-8")
    etree.XMLSchema(etree.fromstring(out))  # fail here, not in the writer, if we generated nonsense
    return out


# --------------------------------------------------------------------------- files
def xsd_path(year: int, root: Path | None = None) -> Path:
    """Where the committed schema for `year` lives (`root` is the specs folder)."""
    return (root or specs_root()) / "cin" / "xsd" / f"CIN_{year}.xsd"


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_xsd_files(root: Path | None = None, years: tuple[int, ...] = LOADABLE_YEARS) -> list[Path]:
    """Regenerate `cin/xsd/CIN_<year>.xsd` under the specs folder `root` for every supported year."""
    written = []
    for year in years:
        path = xsd_path(year, root)
        _write_atomic(path, build_xsd(resolve("cin", year)))
        written.append(path)
    return written


def stale_xsd_files(root: Path | None = None, years: tuple[int, ...] = LOADABLE_YEARS) -> list[Path]:
    """Committed schemas that differ from what the spec generates now."""
    stale = []
    for year in years:
        path = xsd_path(year, root)
        if not path.is_file() or path.read_bytes() != build_xsd(resolve("cin", year)):
            stale.append(path)
    return stale


@lru_cache(maxsize=None)
def load_schema(year: int) -> etree.XMLSchema:
    """The committed schema for `year`, ready to validate a CIN XML document."""
    path = xsd_path(year)
    if not path.is_file():
        raise SpecError(f"no CIN XML schema for {year} at {path}; run python -m csc_returns.returns.xsd")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(path), parser))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m csc_returns.returns.xsd", description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=None, help="specs folder (default: the installed one)")
    ap.add_argument("--check", action="store_true", help="only report schemas that are out of date")
    args = ap.parse_args(argv)
    if args.check:
        stale = stale_xsd_files(args.root)
        for p in stale:
            print(f"out of date: {p}", file=sys.stderr)
        return 1 if stale else 0
    for p in write_xsd_files(args.root):
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
