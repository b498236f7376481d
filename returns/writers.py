"""Return writers: CIN census XML (DfE element order, XSD-checked) and SSDA903 CSVs (DfE layout).

Both are driven by the resolved spec, and round-trip with the loaders: load(write(t)) == t.
Files are written to a temporary name and moved into place only when complete (and, for CIN,
only when the XSD accepts them).
"""

from __future__ import annotations

import os
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import pandas as pd
from lxml import etree

from csc_returns.returns.spec import Spec, Table, specs_root


class WriteError(Exception):
    """A return file could not be written (e.g. it does not satisfy the XSD)."""


def _text(value: Any, ftype: str, date_format: str) -> str | None:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and pd.isna(value):
        return None
    if ftype == "date":
        return pd.Timestamp(value).strftime(date_format)
    if ftype == "bool":
        return "1" if bool(value) else "0"
    if ftype == "int":
        return str(int(value))
    return str(value)


# -------------------------------------------------------------------------------------- CIN XML
def xsd_path(year: int) -> Path:
    return specs_root() / "cin" / "xsd" / f"CIN_{year}.xsd"


def _records(df: pd.DataFrame, t: Table, date_format: str) -> list[dict[str, Any]]:
    """Rows as dicts of formatted text, in canonical row order (vectorised per column)."""
    cols: dict[str, list[Any]] = {}
    for f in t.fields:
        col = df[f.name] if f.name in df else pd.Series(pd.NA, index=df.index)
        if f.type == "date":
            text = col.dt.strftime(date_format) if len(col) else col
        elif f.type == "bool":
            text = col.map({True: "1", False: "0"})
        elif f.type == "int":
            text = col.astype("Int64").astype("string")
        else:
            text = col.astype("string")
        cols[f.name] = [None if pd.isna(v) else str(v) for v in text]
    keys = [c for c in df.columns if c.startswith("_") and c not in ("_source", "_row")]
    for k in keys:
        cols[k] = df[k].tolist()
    n = len(df)
    return [{c: cols[c][i] for c in cols} for i in range(n)]


class _CinWriter:
    def __init__(self, spec: Spec, tables: dict[str, pd.DataFrame]) -> None:
        self.spec = spec
        self.recs: dict[str, list[dict[str, Any]]] = {}
        self.by_parent: dict[str, dict[Any, list[dict[str, Any]]]] = {}
        for name, t in spec.tables.items():
            df = tables.get(name, pd.DataFrame())
            df = df.sort_values("_row") if "_row" in df else df
            self.recs[name] = _records(df, t, spec.date_format) if len(df) else []
            if t.parent:
                pkey = spec.tables[t.parent].key
                groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
                for r in self.recs[name]:
                    groups[r.get(pkey)].append(r)
                self.by_parent[name] = groups

    def element(self, xf: Any, table: str, rec: dict[str, Any]) -> None:
        """Write one record's children in `elements` order, opening wrapper elements as needed."""
        t = self.spec.tables[table]
        fields = {f.name: f for f in t.fields}
        opened: list[str] = []  # wrapper path currently open
        stack: list[Any] = []

        def goto(path: list[str]) -> None:
            common = 0
            while common < min(len(opened), len(path)) and opened[common] == path[common]:
                common += 1
            while len(opened) > common:
                stack.pop().__exit__(None, None, None)
                opened.pop()
            for step in path[common:]:
                cm = xf.element(step)
                cm.__enter__()
                stack.append(cm)
                opened.append(step)

        for item in t.elements:
            if item.startswith("@"):
                child = item[1:]
                if child not in self.spec.tables:
                    continue
                ct = self.spec.tables[child]
                rows = self.by_parent.get(child, {}).get(rec.get(t.key), [])
                if not rows:
                    continue
                steps = (ct.xml or child).split("/")
                goto(steps[:-1])
                vf = next((f for f in ct.fields if f.xml == "."), None)
                for r in rows:
                    if vf is not None:
                        if r.get(vf.name) is not None:
                            el = etree.Element(steps[-1])
                            el.text = r[vf.name]
                            xf.write(el)
                        continue
                    with xf.element(steps[-1]):
                        self.element(xf, child, r)
            else:
                f = fields.get(item)
                if f is None or rec.get(item) is None:
                    continue
                steps = (f.xml or item).split("/")
                goto(steps[:-1])
                el = etree.Element(steps[-1])
                el.text = rec[item]
                xf.write(el)
        goto([])


def write_cin(tables: dict[str, pd.DataFrame], spec: Spec, path: Path, validate: bool = True) -> Path:
    """Write the CIN census XML and check it against the year's XSD before it replaces `path`."""
    w = _CinWriter(spec, tables)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".cin-", suffix=".xml", dir=path.parent)
    os.close(fd)
    try:
        with etree.xmlfile(tmp, encoding="utf-8") as xf:
            xf.write_declaration()
            with xf.element("Message"):
                for rec in w.recs.get("Header", [])[:1]:
                    with xf.element("Header"):
                        w.element(xf, "Header", rec)
                with xf.element("Children"):
                    for rec in w.recs["Child"]:
                        with xf.element("Child"):
                            w.element(xf, "Child", rec)
        if validate:
            check_xsd(Path(tmp), spec.year)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def check_xsd(path: Path, year: int) -> None:
    schema = etree.XMLSchema(etree.parse(str(xsd_path(year))))
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
    doc = etree.parse(str(path), parser)
    if not schema.validate(doc):
        errs = [f"line {e.line}: {e.message}" for e in list(schema.error_log)[:20]]
        raise WriteError(f"the CIN XML does not satisfy the {year} schema:\n  " + "\n  ".join(errs))


# -------------------------------------------------------------------------------------- 903 CSV
def table_to_csv_frame(df: pd.DataFrame, t: Table, date_format: str) -> pd.DataFrame:
    out: dict[str, pd.Series] = {}
    for f in t.fields:
        col = df[f.name] if f.name in df else pd.Series(pd.NA, index=df.index, dtype="string")
        if f.type == "date":
            text = col.dt.strftime(date_format)
        elif f.type == "bool":
            text = col.map({True: "1", False: "0"})
        elif f.type == "int":
            text = col.astype("Int64").astype("string")
        else:
            text = col
        out[f.name] = text.astype("string")
    return pd.DataFrame(out, index=df.index)


def write_903(tables: dict[str, pd.DataFrame], spec: Spec, folder: Path) -> list[Path]:
    """One CSV per table with DfE file name, column order and dd/mm/yyyy dates."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, t in spec.tables.items():
        df = tables.get(name)
        if df is None:
            continue
        df = df.sort_values("_row") if "_row" in df else df
        frame = table_to_csv_frame(df, t, spec.date_format)
        target = folder / (t.file or f"{name.lower()}.csv")
        fd, tmp = tempfile.mkstemp(prefix=".903-", suffix=".csv", dir=folder)
        os.close(fd)
        try:
            frame.to_csv(tmp, index=False, na_rep="", lineterminator="\n")
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        written.append(target)
    return written


def write_return(tables: dict[str, pd.DataFrame], spec: Spec, out: Path) -> list[Path]:
    if spec.return_ == "cin":
        la = ""
        hdr = tables.get("Header")
        if hdr is not None and len(hdr) and "LEA" in hdr and pd.notna(hdr["LEA"].iloc[0]):
            la = f"_{hdr['LEA'].iloc[0]}"
        return [write_cin(tables, spec, Path(out) / f"CIN_Census_{spec.year}{la}.xml")]
    return write_903(tables, spec, Path(out))
