"""The rule reference, generated from the catalogue: `csc-returns rules`, `rules explain`, RULES.md."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from csc_returns.returns.errors import UsageError
from csc_returns.returns.spec import RETURNS, SUPPORTED_YEARS, load_rules, resolve, resolve_rule
from csc_returns.validators.catalogue import checks

# `needs`: what besides the return a rule reads (previous, postcodes, la, ofsted); without it the
# rule is skipped, so an analyst can see which options (--previous, --la, --ofsted) a run wants
COLUMNS = ["return", "code", "severity", "message", "kind", "level", "tables", "fields", "years", "status", "needs"]


def _years(return_: str, code: str) -> list[int]:
    return [y for y in SUPPORTED_YEARS if code in resolve(return_, y).rules]


def rows(return_: str, year: int) -> list[dict[str, Any]]:
    spec = resolve(return_, year)
    out = []
    for code, r in sorted(spec.rules.items(), key=lambda kv: _sort_key(kv[0])):
        out.append({
            "return": return_, "code": code, "severity": r.severity, "message": r.message, "kind": r.kind,
            "level": r.level, "tables": ";".join(r.tables), "fields": ";".join(r.fields),
            "years": ";".join(str(y) for y in _years(return_, code)),
            "status": "not_implemented" if r.kind == "not_implemented" else "implemented",
            "needs": ";".join(r.needs),
        })
    return out


def _example_reference(reference: dict[str, Any]) -> list[str]:
    """The reference data an example was run with (a made-up postcode directory is why its
    ZZ postcodes count as real), in a line each."""
    lines = []
    if "la" in reference:
        lines.append(f"  with --la {reference['la']}")
    if "postcodes" in reference:
        known = [f"{pc} (LA {v.get('la') or '-'})" for pc, v in reference["postcodes"].items()]
        lines.append("  with a postcode directory holding only: " + ", ".join(known))
    for entry in reference.get("ofsted") or []:
        lines.append("  with Ofsted list entry: " + ", ".join(f"{k}={v}" for k, v in entry.items()))
    return lines


def _sort_key(code: str) -> tuple[int, str]:
    digits = "".join(ch for ch in code if ch.isdigit())
    return (int(digits) if digits else 10**9, code)


def format_rows(data: list[dict[str, Any]], columns: list[str], fmt: str) -> str:
    """A listing as JSON or CSV (the `rules` and `rules --gx` commands share it)."""
    if fmt == "json":
        return json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    w.writeheader()
    w.writerows(data)
    return buf.getvalue()


def listing(returns: list[str], year: int, fmt: str) -> str:
    if year not in SUPPORTED_YEARS:
        raise UsageError(f"collection year {year} is not supported; supported: {', '.join(map(str, SUPPORTED_YEARS))}")
    data = [r for ret in returns for r in rows(ret, year)]
    if fmt in ("json", "csv"):
        return format_rows(data, COLUMNS, fmt)
    if fmt == "markdown":
        return "\n".join(markdown(ret) for ret in returns)
    lines = [f"{r['return']:8} {r['code']:>8} {r['severity']:6} {r['kind']:18} {r['message']}" for r in data]
    return "\n".join(lines) + f"\n{len(data)} rules ({year - 1}-{str(year)[2:]})\n"


def markdown(return_: str) -> str:
    """The generated rule reference (specs/<return>/RULES.md): every rule, every year."""
    title = {"cin": "CIN census", "ssda903": "SSDA903"}[return_]
    lines = [f"# {title} validation rules", "",
             "Generated from the rule catalogue (`specs/" + return_ + "/rules/*.yaml`) by "
             f"`csc-returns rules {return_} --format markdown`; do not edit by hand.", ""]
    for spec_rule in sorted(load_rules(return_), key=lambda r: (_sort_key(r.code), r.since or 0)):
        shown_year = min(max(SUPPORTED_YEARS), spec_rule.until or max(SUPPORTED_YEARS))
        r = resolve_rule(spec_rule, max(shown_year, spec_rule.since or 0))
        years = _years(return_, r.code)
        span = f"{r.since or 'earlier'} to {r.until or 'now'}"
        lines += [f"## {r.code} ({r.severity})", "", f"> {r.message}", "",
                  f"- Kind: `{r.kind}`; level: {r.level}; tables: {', '.join(r.tables) or '-'}; fields: {', '.join(r.fields) or '-'}",
                  f"- Collection years: {span} (supported here: {', '.join(map(str, years)) or 'none'})"]
        if r.needs:
            lines.append(f"- Needs: {', '.join(r.needs)}")
        if r.explain:
            lines += ["", r.explain.strip()]
        if r.notes:
            lines += ["", f"*Notes:* {r.notes.strip()}"]
        if r.reason:
            lines += ["", f"*Not implemented:* {r.reason}"]
        lines.append("")
    return "\n".join(lines)


def explain(code: str, year: int, return_: str | None = None) -> str:
    from csc_returns.validators.cases import load_cases

    code = code.strip()
    found = []
    for ret in ([return_] if return_ else RETURNS):
        spec = resolve(ret, year)
        if code in spec.rules:
            found.append((ret, spec.rules[code]))
    if not found:
        if code in checks():
            c = checks()[code]
            return f"{c.code} ({c.severity}, csc-returns check)\n\n{c.message}\n\n{c.explain}\n"
        raise UsageError(f"no rule {code!r} in {return_ or 'either return'} for {year}")
    parts = []
    for ret, r in found:
        text = [f"{ret} {r.code} ({r.severity}, {year - 1}-{str(year)[2:]})", "", f"DfE message: {r.message}", ""]
        if r.explain:
            text += [r.explain.strip(), ""]
        text.append(f"Checks: kind {r.kind}; tables {', '.join(r.tables) or '-'}; fields {', '.join(r.fields) or '-'}")
        if r.notes:
            text += ["", f"Notes: {r.notes.strip()}"]
        fail = next((c for c in load_cases(ret, r.code) if c.expect == "fail"), None)
        if fail is not None:
            text += ["", f"Example of a failing record ({fail.name}):"]
            for table, recs in fail.tables.items():
                for rec in recs:
                    # surrogate keys are noise here; the 903 XML UASC flag is what the rule reads
                    shown = {k: v for k, v in rec.items() if not k.startswith("_") or k == "_uasc"}
                    text.append(f"  {table}: " + ", ".join(f"{k}={v}" for k, v in shown.items()))
            text += _example_reference(fail.reference)
        parts.append("\n".join(text))
    return "\n\n".join(parts) + "\n"
