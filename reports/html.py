"""The HTML quality report: one self-contained file a data manager opens from a file share.

`write_report(result, path, compare=None)` writes `report.html` atomically. Everything the page
needs is inside it: the CSS and JS from `reports/static/` are inlined, charts are inline SVG made
here, and the findings are embedded once as JSON in a `<script type="application/json">` block that
the page renders client-side in pages of 100 rows (a 10,000-child return with thousands of findings
stays a small DOM). A Content-Security-Policy meta tag allows only the page's own script and style
(by hash) and forbids every network request, so even a value that slipped past escaping could
neither run nor fetch anything.

Escaping: the template autoescapes; the JSON block escapes `<`, `>`, `&` (so `</script>` and `<!--`
in a child ID cannot end the block); the page builds rows with `textContent`, never `innerHTML`.

Two derived views are documented here because the report states them too:

* **Month of a finding** (the "by month" chart): the month of a date found in the finding's
  `value` column ("FIELD=2025-06-10; ..."; ISO dates, and dd/mm/yyyy as 903 load findings carry
  them). When the value holds several dates, the first one inside the collection period is used,
  otherwise the first valid date (so a date of birth beside a referral date counts the referral).
  Findings whose value holds no valid date (a missing item, an invalid date) are counted as
  "no date". The RunResult carries no tables, so the table's own date fields are not consulted.
* **Comparing with a previous run** (`compare`: a findings.json written by an earlier run): a
  finding is the same finding when `code`, `child`, `table`, `fields` and `value` all match.
  Row numbers and source lines are left out on purpose: they shift whenever a record is added or
  removed above. Matching counts duplicates (a multiset): remaining = matched pairs, fixed =
  previous findings left unmatched, new = current findings left unmatched.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from csc_returns.reports.machine import atomic_write, findings_records
from csc_returns.returns.result import RunResult
from csc_returns.validators.catalogue import describe

SEVERITIES = ("error", "query", "warning")
SEV_LABEL = {"error": "Error", "query": "Query", "warning": "Warning"}
SEV_PLURAL = {"error": "errors", "query": "queries", "warning": "warnings"}
SEV_ICON = {"error": "\u2716", "query": "\u25b2", "warning": "\u25cf"}  # shapes as well as colours
SEV_COLOUR = {"error": "#b3261e", "query": "#8a5a00", "warning": "#3b5b8c"}
RETURN_TITLE = {"cin": "CIN census", "ssda903": "SSDA903 (children looked after)"}
LOAD_PREFIXES = ("LOAD-", "SCHEMA-")
DQ_PREFIX = "DQ-"  # data-quality (plausibility) checks from the GX suites: their own section
PAGE_SIZE = 100

_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


# ------------------------------------------------------------------------------------ helpers
def _anchor(code: str) -> str:
    return "rule-" + re.sub(r"[^A-Za-z0-9_-]", "_", str(code))


def is_load_code(code: str) -> bool:
    return str(code).startswith(LOAD_PREFIXES)


def is_dq_code(code: str) -> bool:
    return str(code).startswith(DQ_PREFIX)


_DQ_STATUS = {"passed": ("\u2714", "nothing found"), "failed": ("\u25cf", "found something"),
              "skipped": ("\u2013", "not checked"), "errored": ("\u2716", "could not run")}


def dq_checks(result: RunResult) -> list[dict[str, Any]]:
    """The data-quality checks of the run (one per DQ code), with what each measured."""
    out = []
    for code, o in sorted(result.outcomes.items()):
        if not is_dq_code(code):
            continue
        e = describe(result.spec, code)
        icon, label = _DQ_STATUS.get(o.status, ("", o.status))
        lines = [x for x in (o.reason or "").splitlines() if x.strip()] if o.status in ("passed", "failed") else []
        out.append({"code": code, "message": e.message, "explain": e.explain, "status": o.status, "icon": icon,
                    "label": label, "count": o.count, "anchor": _anchor(code), "measured": lines,
                    "reason": (o.reason or "").strip() if o.status in ("skipped", "errored") else ""})
    return out


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def _year_label(year: int) -> str:
    return f"{year - 1}-{str(year)[2:]}"


def _long_date(d: dt.date) -> str:
    return f"{d.day} {d.strftime('%B')} {d.year}"


def script_json(data: Any) -> str:
    """JSON safe inside <script type="application/json">: no `</script>`, no `<!--`, no `]]>`."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def spec_fingerprint(result: RunResult) -> str:
    """A short hash of the resolved spec (tables, code sets, rules) the run used."""
    text = json.dumps(result.spec.as_dict(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _static(name: str) -> str:
    return (Path(str(resources.files("csc_returns.reports"))) / "static" / name).read_text(encoding="utf-8")


def _env() -> Environment:
    folder = Path(str(resources.files("csc_returns.reports"))) / "templates"
    env = Environment(loader=FileSystemLoader(str(folder)), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = lambda n: f"{int(n):,}"
    return env


# ------------------------------------------------------------------------------------ compare
@dataclass
class Comparison:
    """What changed since a previous run (matching documented in the module docstring)."""

    path: str
    fixed: int = 0
    new: int = 0
    remaining: int = 0
    previous_total: int = 0
    previous_started: str | None = None
    previous_counts: dict[str, int] = field(default_factory=dict)
    by_rule: list[dict[str, Any]] = field(default_factory=list)
    status: list[int] = field(default_factory=list)  # per current finding: 1 new, 2 remaining
    notices: list[str] = field(default_factory=list)
    error: str | None = None


def _key(code: Any, child: Any, table: Any, fields: Any, value: Any) -> tuple[str, str, str, str, str]:
    if isinstance(fields, (list, tuple)):
        fields = "|".join(str(x) for x in fields)

    def s(v: Any) -> str:
        return "" if v is None or (not isinstance(v, (list, dict)) and pd.isna(v)) else str(v)

    return (s(code), s(child), s(table), s(fields), s(value))


def _when(text: Any) -> str | None:
    """An ISO timestamp from findings.json as '1 April 2026, 09:00 UTC' (as given if unparseable)."""
    if not text:
        return None
    try:
        t = dt.datetime.fromisoformat(str(text))
    except ValueError:
        return str(text)
    if t.tzinfo is not None:
        t = t.astimezone(dt.timezone.utc)
    return f"{t.day} {t.strftime('%B %Y, %H:%M')}" + (" UTC" if t.tzinfo is not None else "")


def compare_findings(current: list[dict[str, Any]], previous: dict[str, Any], path: str = "",
                     result: RunResult | None = None) -> Comparison:
    """Match the current findings (findings_records form) against a previous findings.json."""
    cmp = Comparison(path=path)
    prev = previous.get("findings")
    if not isinstance(prev, list):
        cmp.error = "the file has no findings list; is it a csc-returns findings.json?"
        cmp.status = [0] * len(current)
        return cmp
    if result is not None:
        if previous.get("return") not in (None, result.return_) or previous.get("year") not in (None, result.year):
            cmp.notices.append(
                f"The previous run was of {previous.get('return')} {previous.get('year')}, this one of "
                f"{result.return_} {result.year}: the comparison may not be meaningful.")
        if previous.get("la") not in (None, result.la) and result.la is not None:
            cmp.notices.append(f"The previous run was for LA {previous.get('la')}, this one for LA {result.la}.")
    pool: Counter = Counter()
    prev_by_code: Counter = Counter()
    for f in prev:
        if not isinstance(f, dict):
            continue
        pool[_key(f.get("code"), f.get("child"), f.get("table"), f.get("fields"), f.get("value"))] += 1
        prev_by_code[str(f.get("code"))] += 1
    cmp.previous_total = sum(prev_by_code.values())
    cmp.previous_started = _when(previous.get("started"))
    summary = previous.get("summary") or {}
    cmp.previous_counts = {s: int(summary.get(SEV_PLURAL[s], 0) or 0) for s in SEVERITIES} if summary else {}
    per_code: dict[str, dict[str, int]] = {}
    status: list[int] = []
    for f in current:
        k = _key(f["code"], f["child"], f["table"], f["fields"], f["value"])
        d = per_code.setdefault(str(f["code"]), {"new": 0, "remaining": 0, "fixed": 0, "now": 0, "before": 0})
        d["now"] += 1
        if pool[k] > 0:
            pool[k] -= 1
            d["remaining"] += 1
            status.append(2)
        else:
            d["new"] += 1
            status.append(1)
    for k, n in pool.items():
        if n > 0:
            d = per_code.setdefault(k[0], {"new": 0, "remaining": 0, "fixed": 0, "now": 0, "before": 0})
            d["fixed"] += n
    for code, n in prev_by_code.items():
        per_code.setdefault(code, {"new": 0, "remaining": 0, "fixed": 0, "now": 0, "before": 0})["before"] = n
    cmp.status = status
    cmp.remaining = sum(d["remaining"] for d in per_code.values())
    cmp.new = sum(d["new"] for d in per_code.values())
    cmp.fixed = sum(d["fixed"] for d in per_code.values())
    cmp.by_rule = sorted(({"code": c, **d} for c, d in per_code.items()),
                         key=lambda r: (-(r["new"] + r["fixed"]), -r["now"], r["code"]))
    return cmp


def load_comparison(path: Path | str, current: list[dict[str, Any]], result: RunResult) -> Comparison:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        cmp = Comparison(path=str(path), error=f"could not read it ({exc.__class__.__name__}: {exc})")
        cmp.status = [0] * len(current)
        warnings.warn(f"comparison file {path} could not be read: {exc}", stacklevel=3)
        return cmp
    return compare_findings(current, data, str(path), result)


# ------------------------------------------------------------------------------------ months
_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_DMY = re.compile(r"(?<!\d)(\d{2})/(\d{2})/(\d{4})(?!\d)")


def finding_month(value: str | None, start: dt.date, end: dt.date) -> dt.date | None:
    """The month (first day) of the finding's record date; see the module docstring."""
    if not value:
        return None
    dates: list[dt.date] = []
    for m in _ISO.finditer(value):
        try:
            dates.append(dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
        except ValueError:
            pass
    for m in _DMY.finditer(value):
        try:
            dates.append(dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1))))
        except ValueError:
            pass
    if not dates:
        return None
    inside = [d for d in dates if start <= d <= end]
    d = (inside or dates)[0]
    return d.replace(day=1)


def month_buckets(records: list[dict[str, Any]], start: dt.date, end: dt.date) -> dict[str, Any]:
    months: list[dt.date] = []
    m = start.replace(day=1)
    while m <= end:
        months.append(m)
        m = (m.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    counts = {mm: Counter() for mm in months}
    before: Counter = Counter()
    after: Counter = Counter()
    none: Counter = Counter()
    cache: dict[str, dt.date | None] = {}
    for r in records:
        v = r.get("value") or ""
        if v not in cache:
            cache[v] = finding_month(v, start, end)
        mm = cache[v]
        sev = r["severity"]
        if mm is None:
            none[sev] += 1
        elif mm < months[0]:
            before[sev] += 1
        elif mm > months[-1]:
            after[sev] += 1
        else:
            counts[mm][sev] += 1
    bars = [{"label": "Before", "title": f"before {_long_date(start)}", "c": before}]
    bars += [{"label": f"{_MONTHS[mm.month - 1]} {str(mm.year)[2:]}", "title": f"{mm.strftime('%B')} {mm.year}",
              "c": counts[mm]} for mm in months]
    bars += [{"label": "After", "title": f"after {_long_date(end)}", "c": after}]
    for b in bars:
        b["n"] = sum(b["c"].values())
    return {"bars": bars, "none": sum(none.values()), "none_c": none}


# ------------------------------------------------------------------------------------ charts (SVG)
def _svg_open(width: int, height: int, title: str, desc: str, ident: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
            f'role="img" aria-labelledby="{ident}-t {ident}-d" preserveAspectRatio="xMinYMin meet">'
            f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(desc)}</desc>')


def bar_chart_rules(rules: list[dict[str, Any]], limit: int = 20) -> Markup:
    """Horizontal bars: findings per rule, severity as text and shape beside the colour."""
    shown = sorted(rules, key=lambda r: (-r["records"], r["code"]))[:limit]
    if not shown:
        return Markup("")
    labels = [f"{r['code']} {SEV_ICON.get(r['severity'], '')} {SEV_LABEL.get(r['severity'], r['severity']).lower()}"
              for r in shown]
    row_h, top, right, width = 26, 8, 70, 900
    left = min(420, max(140, int(max(len(x) for x in labels) * 8.8) + 16))
    height = top * 2 + row_h * len(shown)
    mx = max(r["records"] for r in shown) or 1
    desc = "; ".join(f"{r['code']} ({r['severity']}): {r['records']}" for r in shown)
    parts = [_svg_open(width, height, "Findings by rule", desc, "chart-rules")]
    for i, r in enumerate(shown):
        y = top + i * row_h
        w = max(2.0, (width - left - right) * r["records"] / mx)
        sev = r["severity"]
        label = labels[i]
        parts.append(f'<text x="{left - 8}" y="{y + row_h * 0.65:.1f}" text-anchor="end" class="lbl">{escape(label)}</text>')
        parts.append(f'<rect x="{left}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" fill="{SEV_COLOUR.get(sev, "#555")}" '
                     f'class="bar-{escape(sev)}"><title>{escape(r["code"])}: {r["records"]:,} {escape(sev)} finding(s)</title></rect>')
        parts.append(f'<text x="{left + w + 6:.1f}" y="{y + row_h * 0.65:.1f}" class="val">{r["records"]:,}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart_months(months: dict[str, Any]) -> Markup:
    bars = months["bars"]
    if not any(b["n"] for b in bars):
        return Markup("")
    width, height, left, bottom, top = 900, 270, 40, 40, 38
    n = len(bars)
    slot = (width - left - 10) / n
    mx = max(b["n"] for b in bars) or 1
    desc = "; ".join(f"{b['title']}: {b['n']}" for b in bars) + f"; no date: {months['none']}"
    parts = [_svg_open(width, height, "Findings by month of the record's date", desc, "chart-months")]
    base = height - bottom
    parts.append(f'<line x1="{left}" y1="{base}" x2="{width - 10}" y2="{base}" class="axis"/>')
    lx = width - 10 - 3 * 110
    for j, sev in enumerate(SEVERITIES):  # legend: colour, shape and word
        x = lx + j * 110
        parts.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{SEV_COLOUR[sev]}"/>'
                     f'<text x="{x + 17}" y="15" class="lbl">{SEV_ICON[sev]} {SEV_PLURAL[sev]}</text>')
    for i, b in enumerate(bars):
        x = left + i * slot
        y = base
        for sev in SEVERITIES:  # stacked: errors at the bottom
            c = b["c"].get(sev, 0)
            if not c:
                continue
            h = (base - top) * c / mx
            y -= h
            parts.append(f'<rect x="{x + slot * 0.15:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
                         f'fill="{SEV_COLOUR[sev]}" class="bar-{sev}"><title>{escape(b["title"])}: {c:,} '
                         f'{SEV_PLURAL[sev] if c != 1 else sev}</title></rect>')
        if b["n"]:
            parts.append(f'<text x="{x + slot / 2:.1f}" y="{y - 5:.1f}" text-anchor="middle" class="val">{b["n"]:,}</text>')
        cls = "lbl edge" if i in (0, n - 1) else "lbl"
        parts.append(f'<text x="{x + slot / 2:.1f}" y="{base + 18}" text-anchor="middle" class="{cls}">{escape(b["label"])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart_compare(cmp: Comparison) -> Markup:
    items = [("Fixed", cmp.fixed, "#2e7d32", "\u2714"), ("New", cmp.new, "#b3261e", "\u271a"),
             ("Still there", cmp.remaining, "#6b6b6b", "\u25cf")]
    width, row_h, left, right, top = 900, 34, 140, 90, 8
    height = top * 2 + row_h * len(items)
    mx = max(n for _, n, _, _ in items) or 1
    desc = "; ".join(f"{label}: {n}" for label, n, _, _ in items)
    parts = [_svg_open(width, height, "Changes since the previous run", desc, "chart-compare")]
    for i, (label, n, colour, icon) in enumerate(items):
        y = top + i * row_h
        w = max(2.0, (width - left - right) * n / mx) if n else 0
        parts.append(f'<text x="{left - 8}" y="{y + row_h * 0.62:.1f}" text-anchor="end" class="lbl">{icon} {label}</text>')
        if w:
            parts.append(f'<rect x="{left}" y="{y + 5}" width="{w:.1f}" height="{row_h - 10}" fill="{colour}"/>')
        parts.append(f'<text x="{left + w + 6:.1f}" y="{y + row_h * 0.62:.1f}" class="val">{n:,}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


# ------------------------------------------------------------------------------------ service planning
_MEASURE_GROUP = {"count": "Counts", "percent": "Percentages", "rate_per_10000": "Rates per 10,000 children"}
_MEASURE_UNIT = {"count": "", "percent": " %", "rate_per_10000": " per 10,000"}
_YEAR_COLOUR = {"last": "#9aa0a6", "this": "#1a56b0"}


def _number(text: Any) -> float | None:
    """A published value as a number, or None (the suppression symbol, blank)."""
    try:
        return float(str(text).replace(",", ""))
    except (TypeError, ValueError):
        return None


def bar_chart_planning(group: dict[str, Any], ident: str, symbol: str) -> Markup:
    """Horizontal bars per headline of one measure: last year (grey) above this year (blue).

    Only published values are drawn; a suppressed one has no bar and is labelled with the symbol."""
    items = group["items"]
    has_last = any(i["last"] is not None for i in items)
    years = (["last"] if has_last else []) + ["this"]
    labels = {"last": group["last_label"], "this": group["this_label"]}
    bar_h, gap, top, left, right, width = 16, 14, 26, 330, 80, 900
    row_h = bar_h * len(years) + gap
    height = top + row_h * len(items) + 4
    vals = [_number(i[y]["value"]) for i in items for y in years if i[y] is not None]
    mx = max([v for v in vals if v is not None] or [0]) or 1
    if group["measure"] == "percent":
        mx = max(mx, 100.0)
    desc = "; ".join(f"{i['label']}: " + ", ".join(f"{labels[y]} {i[y]['value'] if i[y] else 'not available'}"
                                                  for y in years) for i in items)
    parts = [_svg_open(width, height, f"Service planning: {group['title'].lower()}", desc, ident)]
    for j, y in enumerate(years):  # legend: colour and word
        x = left + j * 140
        parts.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{_YEAR_COLOUR[y]}"/>'
                     f'<text x="{x + 17}" y="15" class="lbl">{escape(labels[y])}</text>')
    unit = _MEASURE_UNIT.get(group["measure"], "")
    for k, i in enumerate(items):
        y0 = top + k * row_h
        label = i["label"] if len(i["label"]) <= 44 else i["label"][:43] + "\u2026"
        parts.append(f'<text x="{left - 8}" y="{y0 + bar_h * len(years) / 2 + 4:.1f}" text-anchor="end" '
                     f'class="lbl">{escape(label)}</text>')
        for j, yr in enumerate(years):
            h = i[yr]
            by = y0 + j * bar_h
            value = h["value"] if h is not None else None
            v = _number(value)
            w = max(2.0, (width - left - right) * v / mx) if v else 0.0
            if w:
                parts.append(f'<rect x="{left}" y="{by + 1}" width="{w:.1f}" height="{bar_h - 2}" '
                             f'fill="{_YEAR_COLOUR[yr]}"><title>{escape(labels[yr])}: {escape(value)}{unit}</title></rect>')
            text = "not available" if value is None else (f"{value}{unit}" if v is not None else str(value))
            if value == symbol:
                text = f"{symbol} (suppressed)"
            parts.append(f'<text x="{left + w + 6:.1f}" y="{by + bar_h - 4}" class="val">{escape(text)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def planning_context(planning: dict[str, Any] | None) -> dict[str, Any] | None:
    """The service-planning section: headlines from the suppressed tables only (returns/planning.py).

    `planning` is what `planning_for_report` gave: figures, or `available: False` and a reason
    (then the section shows only the notice)."""
    if planning is None:
        return None
    if not planning.get("available"):
        return {"available": False, "reason": str(planning.get("reason") or "no reason given")}
    symbol = planning.get("symbol", "c")
    this_label = _year_label(int(planning["year"]))
    last_label = _year_label(int(planning["previous_year"])) if planning.get("previous_year") else None
    rows, groups = [], {}
    for ind in planning["indicators"]:
        h = ind["this"]
        label = h["title"] + (f": {h['category']}" if h.get("category") else "")
        row = {"id": ind["id"], "label": label, "title": h["title"], "category": h.get("category"),
               "measure": h["measure"], "measure_label": _MEASURE_GROUP.get(h["measure"], h["measure"]).rstrip("s"),
               "unit": h["unit"], "this": h, "last": ind.get("last"), "numerator": h["numerator"],
               "denominator": h["denominator"], "window": h["window"],
               "suppressed": h["value"] == symbol or (ind.get("last") or {}).get("value") == symbol}
        rows.append(row)
        g = groups.setdefault(h["measure"], {"measure": h["measure"], "title": _MEASURE_GROUP.get(h["measure"], h["measure"]),
                                             "items": [], "this_label": this_label, "last_label": last_label})
        g["items"].append(row)
    charts = []
    for n, g in enumerate(g for m in ("count", "percent", "rate_per_10000") if (g := groups.get(m))):
        charts.append({"title": g["title"], "svg": bar_chart_planning(g, f"chart-plan-{n}", symbol)})
    return {"available": True, "symbol": symbol, "profile": planning.get("profile"),
            "profile_description": planning.get("profile_description", ""), "this_label": this_label,
            "last_label": last_label, "rows": rows, "charts": charts, "notices": planning.get("notices", []),
            "any_suppressed": any(r["suppressed"] for r in rows), "rates": planning.get("rates")}


# ------------------------------------------------------------------------------------ context
def _code_key(code: str) -> tuple[int, str]:
    digits = re.match(r"\d+", code)
    return (int(digits.group()) if digits else 10**9, code)


def _reason_rank(reason: str) -> int:
    """What the user can act on first: give last year's return, supply a table; then the rest."""
    if reason.startswith("needs"):
        return 0
    if reason.startswith("table"):
        return 1
    return 3 if reason.startswith("not implemented") else 2


def _reason_group(reason: str) -> str:
    """Skip reasons summarised: 'not implemented yet: <why>' counts under 'not implemented yet'."""
    head, sep, _ = reason.partition(":")
    return head if sep and head.startswith("not implemented") else reason


def _heat_class(n: int, mx: int) -> str:
    if n <= 0 or mx <= 0:
        return "heat-0"
    level = 1 + int(4 * (n / mx) ** 0.5 - 1e-9)  # square root: small counts stay visible
    return f"heat-{min(max(level, 1), 4)}"


def build_context(result: RunResult, compare: Path | str | None = None,
                  siblings: list[str] | None = None, planning: dict[str, Any] | None = None) -> dict[str, Any]:
    spec = result.spec
    records = findings_records(result)
    counts = result.counts()
    n = len(records)

    # per-rule aggregates (records = findings, children = distinct child IDs)
    per: dict[str, dict[str, Any]] = {}
    for r in records:
        d = per.get(r["code"])
        if d is None:
            e = describe(spec, r["code"])
            rule = spec.rules.get(r["code"])
            d = per[r["code"]] = {
                "code": r["code"], "severity": r["severity"], "message": e.message, "explain": e.explain,
                "notes": e.notes, "dfe": e.dfe, "load": is_load_code(r["code"]), "anchor": _anchor(r["code"]),
                "records": 0, "children": set(), "fields": list(rule.fields) if rule else [],
                "tables": list(rule.tables) if rule else [], "sevs": Counter(), "whole": True,
            }
        d["records"] += 1
        d["sevs"][r["severity"]] += 1
        if r["table"]:  # a rule with any record-level finding is not a whole-return rule
            d["whole"] = False
        if r["child"]:
            d["children"].add(r["child"])
        for f in r["fields"]:
            if f not in d["fields"]:
                d["fields"].append(f)
        if r["table"] and r["table"] not in d["tables"]:
            d["tables"].append(r["table"])
    sev_rank = {s: i for i, s in enumerate(SEVERITIES)}
    for d in per.values():
        d["children"] = len(d["children"])
        d["severity"] = d["sevs"].most_common(1)[0][0]
    order = lambda d: (sev_rank.get(d["severity"], 9), -d["records"], d["code"])  # noqa: E731
    load_rules = sorted((d for d in per.values() if d["load"]), key=order)
    rule_level = [d for d in per.values() if not d["load"] and not is_dq_code(d["code"])]
    # return-level rules (CIN 2883, 2886Q, 2887Q, 2888Q...) speak of the whole return, not a record
    return_rules = sorted((d for d in rule_level if d["whole"]), key=order)
    dfe_rules = sorted((d for d in rule_level if not d["whole"]), key=order)
    dq_rules = sorted((d for d in per.values() if is_dq_code(d["code"])), key=order)

    # outcomes: everything that did not run is listed, never hidden (data-quality checks are
    # counted in their own section; one that errored is listed with the rules that could not run)
    status_counts = Counter(o.status for c, o in result.outcomes.items() if not is_dq_code(c))
    errored = [{"code": c, "message": describe(spec, c).message, "anchor": _anchor(c),
                "reason": (o.reason or "").strip()} for c, o in sorted(result.outcomes.items()) if o.status == "errored"]
    skipped = sorted(({"code": c, "message": describe(spec, c).message, "reason": o.reason or "no reason given"}
                      for c, o in result.outcomes.items() if o.status == "skipped" and not is_dq_code(c)),
                     key=lambda s: (_reason_rank(s["reason"]), _code_key(s["code"])))
    skip_reasons = Counter(_reason_group(s["reason"]) for s in skipped)
    skip_reasons = sorted(skip_reasons.items(), key=lambda kv: (_reason_rank(kv[0]), -kv[1], kv[0]))

    # children affected per severity
    sev_children = {s: len({r["child"] for r in records if r["severity"] == s and r["child"]}) for s in SEVERITIES}
    children_any = len({r["child"] for r in records if r["child"]})

    # headline
    errs, qs = counts["error"], counts["query"]
    if errored:
        headline = {"level": "incomplete", "icon": "\u2716",
                    "title": f"Check incomplete: {_plural(len(errored), 'rule')} could not run",
                    "text": "The result below is not the full picture. "
                            + (f"{_plural(errs, 'error')} already block submission." if errs else
                               "Fix the cause (see 'Rules that did not run') and run the check again.")}
    elif errs:
        headline = {"level": "errors", "icon": "\u2716",
                    "title": f"Not ready to submit: {_plural(errs, 'error')} block submission",
                    "text": f"{_plural(sev_children['error'], 'child', 'children')} affected. "
                            + (f"Then {_plural(qs, 'query', 'queries')} to explain." if qs else "No queries.")}
    elif qs:
        headline = {"level": "queries", "icon": "\u25b2",
                    "title": f"Ready to submit, with {_plural(qs, 'query', 'queries')} to explain",
                    "text": "No errors block submission. The DfE will ask about each query: correct the "
                            "record or be ready to explain it."}
    else:
        headline = {"level": "ok", "icon": "\u2714", "title": "Ready to submit",
                    "text": "No errors and no queries were found by the rules that ran."}

    # by table and field (a finding naming two fields counts in both rows)
    heat_rows: list[dict[str, Any]] = []
    f = result.findings
    if len(f):
        ex = f.assign(field=f["fields"].fillna("").str.split("|")).explode("field")
        ex["field"] = ex["field"].replace("", "(no field)")
        ex["table"] = ex["table"].fillna("(whole return)")
        grid = ex.groupby(["table", "field", "severity"], dropna=False).size().unstack("severity", fill_value=0)
        rows_aff = ex.dropna(subset=["row"]).groupby(["table", "field"])["row"].nunique()
        mx = int(grid.sum(axis=1).max()) if len(grid) else 0
        table_order = {t: i for i, t in enumerate(spec.tables)}
        field_order = {(t.name, fl.name): i for t in spec.tables.values() for i, fl in enumerate(t.fields)}
        keys = sorted(grid.index, key=lambda k: (table_order.get(k[0], 999), k[0], field_order.get(k, 999), k[1]))
        prev_table = None
        for k in keys:
            row = grid.loc[k]
            cells = {s: int(row.get(s, 0)) for s in SEVERITIES}
            total = sum(cells.values())
            table_total = result.table_rows.get(k[0], 0)
            affected = int(rows_aff.get(k, 0))
            heat_rows.append({
                "table": k[0], "field": k[1], "first": k[0] != prev_table,
                "cells": {s: (cells[s], _heat_class(cells[s], mx)) for s in SEVERITIES},
                "total": total, "total_class": _heat_class(total, mx), "rows": affected,
                "table_rows": table_total,
                "pct": (f"{100 * affected / table_total:.1f} %" if table_total and affected else ""),
            })
            prev_table = k[0]
    heat_groups: list[dict[str, Any]] = []
    for h in heat_rows:
        if h["first"]:
            heat_groups.append({"table": h["table"], "table_rows": h["table_rows"], "rows": []})
        heat_groups[-1]["rows"].append(h)

    # comparison
    cmp = None
    if compare is not None:
        cmp = load_comparison(compare, records, result)
        for r in cmp.by_rule:
            r["message"] = describe(spec, r["code"]).message
            r["anchor"] = _anchor(r["code"])
            r["in_report"] = r["code"] in per

    months = month_buckets(records, spec.period_start, spec.period_end)

    # the data the page renders: dictionary-encoded to keep 10k findings small
    codes = list(dict.fromkeys([d["code"] for d in load_rules + return_rules + dfe_rules + dq_rules]))
    code_ix = {c: i for i, c in enumerate(codes)}
    tables = sorted({r["table"] for r in records if r["table"]},
                    key=lambda t: ({t2: i for i, t2 in enumerate(spec.tables)}.get(t, 999), t))
    table_ix = {t: i for i, t in enumerate(tables)}
    field_sets: dict[str, int] = {}
    rows: list[list[Any]] = []
    status = cmp.status if cmp is not None and len(cmp.status) == n else [0] * n
    for r, st in zip(records, status):
        fs = ", ".join(r["fields"])
        if fs not in field_sets:
            field_sets[fs] = len(field_sets)
        rows.append([code_ix[r["code"]], sev_rank.get(r["severity"], 0), table_ix.get(r["table"], -1), r["row"],
                     r["child"], field_sets[fs], r["source"] or "", r["value"] or "", r["detail"] or "", st])
    data = {
        "v": 1,
        "page": PAGE_SIZE,
        "sev": list(SEVERITIES),
        "codes": codes,
        "rules": {c: {"m": per[c]["message"], "s": per[c]["severity"], "a": per[c]["anchor"],
                      "l": per[c]["load"]} for c in codes},
        "tables": tables,
        "fields": list(field_sets),
        "compare": cmp is not None and cmp.error is None,
        "f": rows,
    }

    period = f"{_long_date(spec.period_start)} to {_long_date(spec.period_end)}"
    started = result.started
    if started.tzinfo is None:
        started = started.replace(tzinfo=dt.timezone.utc)
    return {
        "r": result,
        "title": f"{RETURN_TITLE.get(result.return_, result.return_)} {_year_label(result.year)}",
        "return_title": RETURN_TITLE.get(result.return_, result.return_),
        "year_label": _year_label(result.year),
        "period": period,
        "started": _when(started.isoformat()),
        "seconds": f"{result.seconds:.1f}",
        "fingerprint": spec_fingerprint(result),
        "counts": counts,
        "total": n,
        "children_any": children_any,
        "sev_children": sev_children,
        "headline": headline,
        "load_rules": load_rules,
        "dfe_rules": dfe_rules,
        "return_rules": return_rules,
        "dq_rules": dq_rules,
        "dq_checks": dq_checks(result),
        "status_counts": {**{s: status_counts.get(s, 0) for s in ("passed", "failed", "skipped")},
                          "errored": len(errored)},
        "n_rules": sum(1 for c in result.outcomes if not is_dq_code(c)),
        "errored": errored,
        "skipped": skipped,
        "skip_reasons": skip_reasons,
        "heat": heat_groups,
        "months": months,
        "chart_rules": bar_chart_rules(load_rules + return_rules + dfe_rules + dq_rules),
        "chart_months": bar_chart_months(months),
        "cmp": cmp,
        "chart_compare": bar_chart_compare(cmp) if cmp is not None and cmp.error is None else Markup(""),
        "tables": tables,
        "siblings": siblings or [],
        "planning": planning_context(planning),
        "data_json": Markup(script_json(data)),
        "sev_label": SEV_LABEL,
        "sev_plural": SEV_PLURAL,
        "sev_icon": SEV_ICON,
        "severities": SEVERITIES,
        "page_size": PAGE_SIZE,
    }


def render_report(result: RunResult, compare: Path | str | None = None, siblings: list[str] | None = None,
                  planning: dict[str, Any] | None = None) -> str:
    ctx = build_context(result, compare, siblings, planning)
    css = _static("report.css")
    js = _static("report.js")
    csp = ("default-src 'none'; "
           f"script-src {_csp_hash(js)}; style-src {_csp_hash(css)}; img-src data:; "
           "base-uri 'none'; form-action 'none'")
    return _env().get_template("report.html.j2").render(**ctx, css=Markup(css), js=Markup(js), csp=Markup(csp))


def write_report(result: RunResult, path: Path | str, compare: Path | str | None = None,
                 planning: dict[str, Any] | None = None) -> Path:
    """Write the self-contained HTML report atomically; `compare` is a previous run's findings.json;
    `planning` what `returns.planning.planning_for_report` gave (None: no service-planning section)."""
    path = Path(path)
    siblings = [name for name in ("findings.xlsx", "findings.csv", "findings.json") if (path.parent / name).exists()]
    html = render_report(result, compare, siblings, planning)
    return atomic_write(path, html.encode("utf-8"))
