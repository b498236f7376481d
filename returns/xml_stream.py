"""What the XML loaders share (CIN census, SSDA903 XML): safe streaming parser settings, the
DOCTYPE/ENTITY refusal, the path tree of known elements, warnings for elements the spec does not
know (with their row numbers), and the string frames the loaders hand to coerce.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from lxml import etree

from csc_returns.returns.errors import LoadError


@dataclass
class Node:
    """What the children of one element may be: tag -> field name | sub-node | nested table."""

    fields: dict[str, str] = field(default_factory=dict)
    groups: dict[str, "Node"] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)


def insert(node: Node, path: str, kind: str, name: str) -> None:
    """Add `path` (steps joined by "/") below `node`: wrappers become groups, the last step `kind`."""
    steps = path.split("/")
    for step in steps[:-1]:
        node = node.groups.setdefault(step, Node())
    getattr(node, kind)[steps[-1]] = name


def local(tag: Any) -> str | None:
    """An element's tag without its namespace; None for comments and processing instructions."""
    if not isinstance(tag, str):
        return None
    return tag.rpartition("}")[2]


def parser_kwargs() -> dict[str, Any]:
    # Untrusted input: no entities, no DTD, no network, no huge-tree tricks.
    return dict(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True)


def refuse_doctype(path: Path, kind: str) -> None:
    """Refuse a file whose head declares a DOCTYPE or ENTITY (`kind`: "CIN census", ...)."""
    with path.open("rb") as fh:
        head = fh.read(65536)
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise LoadError(
            f"{path}: the file contains a DOCTYPE or ENTITY declaration. {kind} files never do; "
            "it was not read, for safety (entity expansion can leak files or exhaust memory)."
        )


def not_well_formed(path: Path, exc: etree.XMLSyntaxError) -> LoadError:
    line = getattr(exc, "lineno", None) or (exc.position[0] if getattr(exc, "position", None) else "?")
    return LoadError(f"{path}: line {line}: the XML is not well formed ({exc.msg}). "
                     "The file may be truncated; re-export it.")


_COMMENTS = re.compile(rb"<!--.*?-->", re.S)
_FIRST_TAG = re.compile(rb"<([A-Za-z_][\w.:-]*)")  # an element name (not <?xml, <!--, <!DOCTYPE)


def root_name(path: Path) -> str | None:
    """The local name of a file's root element (to route a file to its loader); None when none
    is found. Read from the first 64 KiB; only an encoding that hides the name from that look
    (UTF-16) costs a parse up to the root's start tag, with the safe parser settings."""
    try:
        with path.open("rb") as fh:
            head = _COMMENTS.sub(b"", fh.read(65536))
    except OSError:
        return None
    m = _FIRST_TAG.search(head)
    if m is not None:
        return m.group(1).decode("utf-8", "replace").rpartition(":")[2]
    try:
        with path.open("rb") as fh:  # closed on the early return, not left to GC
            for _, elem in etree.iterparse(fh, events=("start",), **parser_kwargs()):
                return local(elem.tag)
    except etree.XMLSyntaxError:
        pass
    return None


def unknown_element(file: str, table: str | None, child: Any, where: str, elem: Any, what: str,
                    rec: dict[str, Any] | None) -> dict[str, Any]:
    """A warning for an element the spec does not know (or repeats); `rec` is the raw row it sits
    in, turned into a row number by `with_rows` once every row is read."""
    return {
        "code": "LOAD-ELEMENT-UNKNOWN",
        "severity": "warning",
        "table": table,
        "child": child,
        "fields": local(elem.tag),
        "source": f"{file}:{elem.sourceline}",
        "value": (elem.text or "").strip()[:80],
        "detail": f"{what} <{where}>",
        "_rec": rec,
    }


def with_rows(rows: dict[str, list[dict[str, Any]]], unknown: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The warnings of `unknown_element` with `row` (1-based within the table) instead of `_rec`."""
    positions: dict[int, int] = {}
    for name, recs in rows.items():
        if any(u["table"] == name for u in unknown):
            positions.update({id(r): i + 1 for i, r in enumerate(recs)})
    return [{**{k: v for k, v in u.items() if k != "_rec"}, "row": positions.get(id(u["_rec"]))} for u in unknown]


def string_frame(rows: list[dict[str, Any]], columns: list[str], int_columns: set[str] | frozenset[str] = frozenset()) -> pd.DataFrame:
    """Raw rows as a frame of text columns (`int_columns`: surrogate keys, as Int64)."""
    df = pd.DataFrame.from_records(rows, columns=columns) if rows else pd.DataFrame(columns=columns)
    for c in df.columns:
        df[c] = df[c].astype("Int64") if c in int_columns else df[c].astype("string")
    return df
