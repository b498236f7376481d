"""SSDA903 XML (one file, root <EXPSSDA903>) -> raw tables, streamed with lxml and driven by the
`xml` keys of `specs/ssda903/tables.yaml`.

Each <CHILD> is read whole, turned into rows and dropped, so memory stays flat however large the
file. A table's rows are the occurrences of its record element (HEADER, EPISODE, AREVIEW, ...); a
table that shares its record element with an earlier table (UASC, OC3 and AD1 share Header's
HEADER) has a row only when one of its own items is non-blank. Every cell stays text, exactly as
in the file, so the CSV form's coerce path types it and reports what it cannot read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from lxml import etree

from csc_returns.returns.errors import LoadError
from csc_returns.returns.spec import Spec, SpecError
from csc_returns.returns.xml_stream import (Node, insert, local, not_well_formed, parser_kwargs, refuse_doctype,
                                            root_name, string_frame, unknown_element, with_rows)

ROOT = "EXPSSDA903"
HEADER = "Header"  # the child's own table: every other table's CHILD comes from its HEADER
# The child's UASC status flag, HEADER/UASC, is no field of any table (see the notes of
# specs/ssda903/tables.yaml): its raw text rides on the Header row in this column, and a flag of
# 1 gives the child a UASC row even when DUC is blank.
UASC_FLAG = "_uasc"
_FLAG_ELEMENT = "UASC"
_FLAG_ROW_TABLE = "UASC"

Steps = tuple[str, ...]


@dataclass
class Layout:
    """The XML form of the 903 tables, compiled from the spec."""

    child: str  # the child element: first step of every table's path
    records: dict[Steps, list[str]] = field(default_factory=dict)  # record path below the child -> tables, owner first
    fields: dict[str, list[tuple[str, Steps]]] = field(default_factory=dict)  # table -> (field, steps from record)
    own: dict[str, list[str]] = field(default_factory=dict)  # tables sharing a record: the fields that make a row
    tree: Node = field(default_factory=Node)  # every element the spec knows, below the child element


def _normalise(steps: Steps, where: str) -> Steps:
    """A path with its `..` steps applied."""
    out: list[str] = []
    for s in steps:
        if s == "..":
            if not out:
                raise SpecError(f"ssda903 {where}: xml path climbs above the child element")
            out.pop()
        else:
            out.append(s)
    return tuple(out)


def compile_layout(spec: Spec) -> Layout:
    tables = [t for t in spec.tables.values() if t.xml]
    if not tables or HEADER not in {t.name for t in tables}:
        raise SpecError(f"ssda903 {spec.year}: the tables have no XML form (no `xml` on {HEADER})")
    layout = Layout(child=tables[0].xml.split("/")[0])  # type: ignore[union-attr]
    for t in tables:
        steps = tuple(t.xml.split("/"))  # type: ignore[union-attr]
        if steps[0] != layout.child or len(steps) < 2:
            raise SpecError(f"ssda903 {t.name}: xml {t.xml!r} must start with {layout.child}/")
        rec = steps[1:]
        layout.records.setdefault(rec, []).append(t.name)
        layout.fields[t.name] = [(f.name, tuple((f.xml or f.name).split("/"))) for f in t.fields]
        insert(layout.tree, "/".join(rec), "tables", t.name)
        for name, st in layout.fields[t.name]:
            insert(layout.tree, "/".join(_normalise(rec + st, f"{t.name}.{name}")), "fields", f"{t.name}.{name}")
    for rec, names in layout.records.items():
        owned = {_normalise(rec + st, n) for n, st in layout.fields[names[0]]}
        for name in names[1:]:
            layout.own[name] = [f for f, st in layout.fields[name] if _normalise(rec + st, name) not in owned]
    header_rec = tuple(spec.tables[HEADER].xml.split("/")[1:])  # type: ignore[union-attr]
    insert(layout.tree, "/".join(header_rec + (_FLAG_ELEMENT,)), "fields", UASC_FLAG)
    return layout


def _at(elem: Any, steps: Steps) -> Iterator[Any]:
    """The elements at `steps` below `elem`, in document order."""
    if not steps:
        yield elem
        return
    for sub in elem:
        if local(sub.tag) == steps[0]:
            yield from _at(sub, steps[1:])


Index = dict[Any, dict[str, Any]]  # element -> its first sub-element of each tag


def _value(elem: Any, steps: Steps, index: Index) -> str | None:
    """The text at `steps` from `elem` (`..`: the enclosing element); the first of repeats."""
    cur = elem
    for s in steps:
        if s == "..":
            cur = cur.getparent()
        else:
            if cur not in index:
                index[cur] = {}
                for sub in cur:
                    index[cur].setdefault(local(sub.tag) or "", sub)
            cur = index[cur].get(s)
        if cur is None:
            return None
    return cur.text


def _filled(text: str | None) -> bool:
    return bool(text and text.strip())


Owner = tuple[str, dict[str, Any]]  # the table and raw row a record element became


class _Reader:
    def __init__(self, spec: Spec, path: Path) -> None:
        self.layout = compile_layout(spec)
        self.name = path.name
        self.rows: dict[str, list[dict[str, Any]]] = {t: [] for t in self.layout.fields}
        self.unknown: list[dict[str, Any]] = []

    def child(self, elem: Any) -> None:
        """The rows of one <CHILD>, and warnings for the elements the spec does not know in it."""
        index: Index = {}
        found: dict[Steps, list[Any]] = {}  # record path -> its elements, in document order
        odd: list[tuple[Any, Any, str]] = []  # (element, its record element, what is wrong)
        self._scan(elem, self.layout.tree, (), elem, index, found, odd)
        owners: dict[Any, Owner] = {}
        for rec, names in self.layout.records.items():
            for rec_elem in found.get(rec, []):
                for name in names:
                    row = self._row(name, rec_elem, index)
                    if row is not None:
                        self.rows[name].append(row)
                        owners.setdefault(rec_elem, (name, row))
        header = next((o for o in owners.values() if o[0] == HEADER), None)
        child_id = ((header[1].get("CHILD") or "").strip() or None) if header else None
        for sub, rec_elem, what in odd:
            self._warn(owners.get(rec_elem, header), child_id, f"{local(sub.getparent().tag)}/{local(sub.tag)}", sub, what)

    def _scan(self, elem: Any, node: Node, path: Steps, rec_elem: Any, index: Index,
              found: dict[Steps, list[Any]], odd: list[tuple[Any, Any, str]]) -> None:
        """One pass over `elem`'s sub-elements against the tree of known elements: records found,
        first sub-elements indexed, unknown and repeated elements noted."""
        kids = index[elem] = {}
        for sub in elem:
            tag = local(sub.tag)
            if tag is None:
                continue
            if tag in node.fields:
                if tag in kids:  # a repeated single-valued element: the first is read, say so
                    odd.append((sub, rec_elem, "repeated element"))
                kids.setdefault(tag, sub)
            elif tag in node.groups or tag in node.tables:
                kids.setdefault(tag, sub)
                here = path + (tag,)
                if tag in node.tables:
                    found.setdefault(here, []).append(sub)
                self._scan(sub, node.groups.get(tag, Node()), here, sub if tag in node.tables else rec_elem,
                           index, found, odd)
            else:
                odd.append((sub, rec_elem, "unknown element"))

    def _row(self, name: str, rec_elem: Any, index: Index) -> dict[str, Any] | None:
        row: dict[str, Any] = {"_source": f"{self.name}:{rec_elem.sourceline}"}
        for f, steps in self.layout.fields[name]:
            row[f] = _value(rec_elem, steps, index)
        flag = _value(rec_elem, (_FLAG_ELEMENT,), index) if name in (HEADER, _FLAG_ROW_TABLE) else None
        if name == HEADER:
            row[UASC_FLAG] = flag
        own = self.layout.own.get(name)
        if own is not None and not any(_filled(row[f]) for f in own) and (flag or "").strip() != "1":
            return None  # e.g. the HEADER of a child who was not adopted is no AD1 row
        return row

    def _warn(self, owner: tuple[str, dict[str, Any]] | None, child_id: str | None, where: str, elem: Any,
              what: str) -> None:
        table, row = owner if owner else (None, None)
        self.unknown.append(unknown_element(self.name, table, child_id, where, elem, what, row))

    def stray(self, elem: Any) -> None:
        """An element directly under the root that is not a child: not read, say so."""
        self._warn(None, None, f"{ROOT}/{local(elem.tag)}", elem, "unknown element (not read)")


def _expect_root(path: Path, found: str | None) -> None:
    if found is not None and found != ROOT:
        raise LoadError(f"{path}: the root element is <{found}>, not <{ROOT}>; this is not an SSDA903 XML file.")


def _children(path: Path, child_tag: str, stray: Callable[[Any], None]) -> Iterator[Any]:
    """Each child element directly under the <EXPSSDA903> root, complete, in document order; it is
    dropped once the caller moves on. Other elements under the root go to `stray`."""
    if path.stat().st_size == 0:
        raise LoadError(f"{path}: the file is empty.")
    refuse_doctype(path, "SSDA903 XML")
    _expect_root(path, root_name(path))
    root = None
    try:
        events = etree.iterparse(str(path), events=("start", "end"), tag=(f"{{*}}{ROOT}", f"{{*}}{child_tag}"),
                                 **parser_kwargs())
        for event, elem in events:
            if root is None:
                root = elem.getroottree().getroot()
                _expect_root(path, local(root.tag))
            if event == "end" and elem is root:
                for sub in root:  # what is left: the last (read) child and anything after it
                    if local(sub.tag) not in (None, child_tag):
                        stray(sub)
            elif event == "end" and elem.getparent() is root:  # a nested CHILD is its parent's business
                yield elem
                elem.clear(keep_tail=False)
                while elem.getprevious() is not None:  # drop what is read, reporting what was not
                    if local(root[0].tag) not in (None, child_tag):
                        stray(root[0])
                    del root[0]
    except etree.XMLSyntaxError as exc:
        raise not_well_formed(path, exc) from None
    if root is None:
        raise LoadError(f"{path}: no <{ROOT}> root element; this is not an SSDA903 XML file.")


def read_903_xml(path: Path, spec: Spec) -> tuple[dict[str, pd.DataFrame], list[dict[str, Any]]]:
    """Stream an SSDA903 XML return into raw text tables (`_source`, the fields, and on Header
    the UASC flag), one per table that has an XML form; plus warnings for unknown elements."""
    reader = _Reader(spec, path)
    for child in _children(path, reader.layout.child, reader.stray):
        reader.child(child)
    tables = {}
    for name, rows in reader.rows.items():
        cols = ["_source"] + spec.tables[name].field_names + ([UASC_FLAG] if name == HEADER else [])
        tables[name] = string_frame(rows, cols)
    return tables, with_rows(reader.rows, reader.unknown)


def episode_starts(path: Path, spec: Spec) -> list[str]:
    """Every episode's DECOM text, streamed (the collection year is detected from these)."""
    layout = compile_layout(spec)
    table = spec.tables["Episodes"]
    rec = tuple(table.xml.split("/")[1:])  # type: ignore[union-attr]
    steps = tuple((table.field("DECOM").xml or "DECOM").split("/"))
    out: list[str] = []
    for child in _children(path, layout.child, lambda _: None):
        index: Index = {}
        out += [v for v in (_value(e, steps, index) for e in _at(child, rec)) if _filled(v)]
    return out
