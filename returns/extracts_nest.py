"""Flat extract tables -> the raw tables the loaders produce (CIN: nested by surrogate keys).

A flat table is a DataFrame with the DfE items of one table (normalised text), `_source`
(file[sheet]:line), `@child` (the child's ID), and, for CIN, link columns: `@T` is the ID the
extract gives a record of table T (its own, or an ancestor's: "Referral ID" on an assessments
sheet), `^T` the DfE key item of an ancestor T (CINreferralDate on an assessments sheet). Each
CIN record is hung on its parent by the IDs when both sides have them, otherwise by the keys the
row gives; a record whose parent cannot be found, or is ambiguous, is a finding (never a guess).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from csc_returns.returns.extracts_match import NATURAL_KEYS
from csc_returns.returns.spec import Spec


def ancestors(spec: Spec, table: str) -> list[str]:
    """Parent chain, root first (Child ... parent)."""
    chain: list[str] = []
    cur = spec.tables[table].parent
    while cur:
        chain.insert(0, cur)
        cur = spec.tables[cur].parent
    return chain


def nesting_order(spec: Spec) -> list[str]:
    """CIN tables parents first (Header excluded)."""
    order: list[str] = []
    pending = [t for t in spec.tables if t != "Header"]
    while pending:
        for t in list(pending):
            p = spec.tables[t].parent
            if p is None or p in order:
                order.append(t)
                pending.remove(t)
    return order


def _finding(code: str, severity: str, table: str, child: Any, source: Any, detail: str, value: str | None = None) -> dict[str, Any]:
    return {"code": code, "severity": severity, "table": table, "child": None if _na(child) else str(child),
            "source": None if _na(source) else str(source), "value": value, "detail": detail}


def _na(v: Any) -> bool:
    return v is None or (isinstance(v, float) and v != v) or v is pd.NA


def nest_cin(spec: Spec, flats: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], list[dict[str, Any]]]:
    """Hang flat CIN tables on their parents; returns raw tables with surrogate keys, and findings."""
    findings: list[dict[str, Any]] = []
    raw: dict[str, pd.DataFrame] = {}
    # per table: list of record dicts with their path (ids, keys, surrogate keys)
    records: dict[str, list[dict[str, Any]]] = {}
    child_field = spec.tables["Child"].child_field
    for name in nesting_order(spec):
        t = spec.tables[name]
        flat = flats.get(name)
        rows = flat.to_dict("records") if flat is not None and len(flat) else []
        if name == "Child" and not rows:
            # no child sheet: children are the IDs the other tables name (their items stay blank)
            seen: dict[str, str] = {}
            for other, df in flats.items():
                if other != "Child" and df is not None and "@child" in df:
                    for c, s in zip(df["@child"], df["_source"]):
                        if not _na(c) and c not in seen:
                            seen[c] = s
            rows = [{"@child": c, "LAchildID": c, "_source": s} for c, s in seen.items()]
            if rows:
                findings.append(_finding("LOAD-TABLE-MISSING", "error", "Child", None, None,
                                         "no sheet holds the children's own items (sex, ethnicity, date of birth...); "
                                         f"{len(rows)} children were made from the IDs in the other tables"))
        out: list[dict[str, Any]] = []
        if t.parent is None:
            for i, r in enumerate(rows, start=1):
                rec = dict(r)
                cid = r.get("@child") if not _na(r.get("@child")) else r.get(child_field)
                rec["@child"] = cid
                rec[child_field] = cid
                if t.key:
                    rec[t.key] = i
                rec["^" + name] = cid
                out.append(rec)
            records[name] = out
        else:
            parent = t.parent
            chain = ancestors(spec, name)
            index = _Index(records[parent], parent, chain)
            n = 0
            for r in rows:
                found, problem = index.find(r)
                if found is None:
                    findings.append(_finding("LOAD-LINK", "error", name, r.get("@child"), r.get("_source"),
                                             f"no {parent} record matches {problem}; the {name} record was not used"))
                    continue
                if problem:
                    findings.append(_finding("LOAD-LINK", "warning", name, r.get("@child"), r.get("_source"),
                                             f"several {parent} records match {problem}; the first was used"))
                rec = dict(r)
                for k, v in found.items():  # inherit surrogate keys, and ancestor IDs/keys the row lacks
                    if k in ("_source", "_line"):
                        continue
                    if k.startswith("_"):
                        rec[k] = v
                    elif k[:1] in ("@", "^") and _na(rec.get(k)):
                        rec[k] = v
                rec["@child"] = found["@child"]
                rec[child_field] = found[child_field]
                if t.key:
                    n += 1
                    rec[t.key] = n
                nk = NATURAL_KEYS.get(name)
                if nk:
                    rec["^" + name] = rec.get(nk)
                out.append(rec)
            records[name] = out
        keys = spec.key_columns(name)
        cols = ["_source"] + keys + t.field_names
        if name != "Header" and child_field not in cols:
            cols.insert(1, child_field)
        df = pd.DataFrame.from_records([{c: r.get(c) for c in cols} for r in out], columns=cols)
        for c in df.columns:
            df[c] = df[c].astype("Int64") if c.startswith("_") and c != "_source" else df[c].astype("string")
        raw[name] = df
    return raw, findings


class _Index:
    """Finds a parent record from whatever IDs and keys a row gives."""

    def __init__(self, recs: list[dict[str, Any]], parent: str, chain: list[str]) -> None:
        self.recs = recs
        self.parent = parent
        self.chain = chain  # ancestors of the child table, root first (ends with parent)
        self.by_child: dict[Any, list[dict[str, Any]]] = {}
        for r in recs:
            self.by_child.setdefault(r.get("@child"), []).append(r)
        self.cache: dict[tuple, dict[tuple, list[dict[str, Any]]]] = {}
        self.id_cols = {"@" + a for a in chain if any(not _na(r.get("@" + a)) for r in recs)}

    def _cols(self, row: dict[str, Any]) -> tuple[str, ...]:
        cols: list[str] = []
        for a in self.chain:
            if a == "Child":
                continue
            if not _na(row.get("@" + a)) and "@" + a in self.id_cols:
                cols.append("@" + a)
            elif not _na(row.get("^" + a)):
                cols.append("^" + a)
        return tuple(cols)

    def find(self, row: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
        child = row.get("@child")
        cols = self._cols(row)
        what = ", ".join([f"child {child}"] + [f"{c[1:]} {'ID' if c[0] == '@' else 'key'} {row.get(c)}" for c in cols])
        if self.parent == "Child":
            cands = self.by_child.get(child, [])
        else:
            if not any(c.endswith(self.parent) for c in cols):
                return None, what + f" (the row gives no {self.parent} ID or {NATURAL_KEYS.get(self.parent)})"
            idx = self.cache.get(cols)
            if idx is None:
                idx = {}
                for r in self.recs:
                    idx.setdefault((r.get("@child"),) + tuple(r.get(c) for c in cols), []).append(r)
                self.cache[cols] = idx
            cands = idx.get((child,) + tuple(row.get(c) for c in cols), [])
        if not cands:
            return None, what
        return cands[0], (what if len(cands) > 1 else "")


def dedupe_parent(df: pd.DataFrame, table: str, identity: list[str], fields: list[str]) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Records of a parent table repeated on every row of a denormalised sheet -> one each.

    Rows with the same identity and the same items collapse; the same identity with different items
    keeps the first and reports the others."""
    if df.empty:
        return df, []
    cols = [c for c in identity + fields if c in df]
    has_any = df[[c for c in fields if c in df]].notna().any(axis=1) if any(c in df for c in fields) else pd.Series(True, index=df.index)
    df = df[has_any]
    same = df.duplicated(subset=cols, keep="first")
    df = df[~same]
    ids = [c for c in identity if c in df]
    clash = df.duplicated(subset=ids, keep="first") if ids else pd.Series(False, index=df.index)
    findings = [
        _finding("LOAD-CONFLICT", "warning", table, r.get("@child"), r.get("_source"),
                 f"the same {table} record is given again with different items; the first was used")
        for r in df[clash].to_dict("records")
    ]
    return df[~clash], findings
