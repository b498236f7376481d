"""CIN census XML -> raw tables, streamed with lxml, driven entirely by `specs/cin/tables.yaml`.

One pass over each <Child>: a compiled path tree says, for every element tag, whether it is a
field of the current record, a wrapper to descend into, or the record element of a nested table.
Joins are structural (surrogate keys from document position), never by LAchildID, so children
without an ID or sharing one stay apart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from lxml import etree

from csc_returns.returns.errors import LoadError
from csc_returns.returns.spec import Spec, Table
from csc_returns.returns.xml_stream import Node as _Node
from csc_returns.returns.xml_stream import insert as _insert
from csc_returns.returns.xml_stream import local as _local
from csc_returns.returns.xml_stream import (not_well_formed, parser_kwargs, refuse_doctype, string_frame,
                                            unknown_element, with_rows)


def compile_tree(spec: Spec) -> dict[str, _Node]:
    """Per table, the node describing its record element's children."""
    nodes: dict[str, _Node] = {t: _Node() for t in spec.tables}
    for t in spec.tables.values():
        for f in t.fields:
            if f.xml and f.xml != ".":
                _insert(nodes[t.name], f.xml, "fields", f.name)
        if t.parent and t.parent in nodes and t.xml:
            _insert(nodes[t.parent], t.xml, "tables", t.name)
    return nodes


class _Reader:
    def __init__(self, spec: Spec, path: Path) -> None:
        self.spec = spec
        self.name = path.name
        self.nodes = compile_tree(spec)
        self.rows: dict[str, list[dict[str, Any]]] = {t: [] for t in spec.tables}
        self.counters: dict[str, int] = {t.key: 0 for t in spec.tables.values() if t.key}
        self.unknown: list[dict[str, Any]] = []
        self.value_field = {
            t.name: next((f.name for f in t.fields if f.xml == "."), None) for t in spec.tables.values()
        }

    def record(self, table: str, elem: Any, keys: dict[str, Any], child_id: Any) -> dict[str, Any]:
        t: Table = self.spec.tables[table]
        rec: dict[str, Any] = dict(keys)
        rec["_source"] = f"{self.name}:{elem.sourceline}"
        if t.key:
            self.counters[t.key] += 1
            rec[t.key] = self.counters[t.key]
        vf = self.value_field[table]
        if vf:
            rec[vf] = elem.text
        self.rows[table].append(rec)
        self._walk(elem, self.nodes[table], table, rec, child_id, elem.tag)
        return rec

    def _walk(self, elem: Any, node: _Node, table: str, rec: dict[str, Any], child_id: Any, path: str) -> None:
        for sub in elem:
            tag = _local(sub.tag)
            if tag is None:
                continue
            if tag in node.fields:
                name = node.fields[tag]
                if name in rec:  # a repeated single-valued element: keep the first, say so
                    self._unknown(table, rec, child_id, f"{_local(path)}/{tag}", sub, "repeated element")
                else:
                    rec[name] = sub.text
            elif tag in node.groups:
                self._walk(sub, node.groups[tag], table, rec, child_id, f"{path}/{tag}")
            elif tag in node.tables:
                nested = node.tables[tag]
                t = self.spec.tables[table]
                keys = {k: v for k, v in rec.items() if k.startswith("_") and k != "_source"}
                keys[self.spec.tables[table].child_field] = child_id
                if t.key:
                    keys[t.key] = rec[t.key]
                self.record(nested, sub, keys, child_id)
            else:
                self._unknown(table, rec, child_id, f"{_local(path)}/{tag}", sub, "unknown element")

    def _unknown(self, table: str, rec: dict[str, Any], child_id: Any, where: str, elem: Any, what: str) -> None:
        self.unknown.append(unknown_element(self.name, table, child_id, where, elem, what, rec))


def read_cin(path: Path, spec: Spec) -> tuple[dict[str, pd.DataFrame], list[dict[str, Any]]]:
    """Stream a CIN census file into raw string tables (plus `_source` and surrogate keys)."""
    if path.stat().st_size == 0:
        raise LoadError(f"{path}: the file is empty.")
    refuse_doctype(path, "CIN census")
    reader = _Reader(spec, path)
    child_table = spec.tables["Child"]
    header = spec.tables.get("Header")
    header_node = compile_tree(spec)["Header"] if header else None
    root_tag: str | None = None
    try:
        ctx = etree.iterparse(
            str(path), events=("start", "end"), tag=("{*}Message", "{*}Child", "{*}Header"), **parser_kwargs()
        )
        for event, elem in ctx:
            tag = _local(elem.tag)
            if event == "start":
                if tag == "Message" and root_tag is None:
                    root_tag = tag
                continue
            if tag == "Child":
                child_id = _text(elem, spec.tables["Child"].field(child_table.child_field).xml)
                reader.record("Child", elem, {}, child_id)
                elem.clear(keep_tail=False)
                parent = elem.getparent()
                while elem.getprevious() is not None and parent is not None:
                    del parent[0]
            elif tag == "Header" and header is not None and header_node is not None:
                rec: dict[str, Any] = {"_source": f"{path.name}:{elem.sourceline}"}
                reader.rows["Header"].append(rec)
                reader._walk(elem, header_node, "Header", rec, None, "Header")
                elem.clear(keep_tail=False)
    except etree.XMLSyntaxError as exc:
        raise not_well_formed(path, exc) from None
    if root_tag is None:
        raise LoadError(f"{path}: no <Message> root element; this is not a CIN census file.")
    tables: dict[str, pd.DataFrame] = {}
    for name, rows in reader.rows.items():
        t = spec.tables[name]
        cols = ["_source"] + spec.key_columns(name) + t.field_names
        if name != "Header" and t.child_field not in cols:
            cols.insert(1, t.child_field)
        tables[name] = string_frame(rows, cols, {c for c in cols if c.startswith("_") and c != "_source"})
    unknown = with_rows(reader.rows, reader.unknown)
    return tables, unknown


def _text(elem: Any, path: str | None) -> str | None:
    if not path:
        return None
    found = elem.find("/".join("{*}" + s for s in path.split("/")))
    if found is None or found.text is None:
        return None
    text = found.text.strip()
    return text or None


def reference_date(path: Path) -> str | None:
    """Read the header ReferenceDate without parsing the whole file (for year detection)."""
    if path.stat().st_size == 0:
        raise LoadError(f"{path}: the file is empty.")
    refuse_doctype(path, "CIN census")
    try:
        # our own handle: returning mid-parse would otherwise leave lxml's open until GC (Windows locks it)
        with path.open("rb") as fh:
            for _, elem in etree.iterparse(fh, events=("end",), tag=("{*}ReferenceDate", "{*}Child"), **parser_kwargs()):
                if _local(elem.tag) == "ReferenceDate":
                    return (elem.text or "").strip() or None
                return None
    except etree.XMLSyntaxError as exc:
        raise not_well_formed(path, exc) from None
    return None
