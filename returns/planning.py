"""Service-planning headlines for the HTML quality report (issue 6), built only from suppressed tables.

`planning_for_report(loaded, previous)` runs the aggregates of one return in memory with the `dfe`
disclosure profile: indicators -> `disclosure.protect` -> `disclosure.verify_all` -> headline read
from the PUBLISHED table (`aggregates.headline_of`) -> `aggregates.service_planning_summary`. No
file is written, no pseudonymised extract is made and no key is read. Last year's headlines (when
last year's return was given) are computed the same way from last year's tables; the year before
that is not available, so last year's figures are computed without their own history (e.g. its
CIN re-referrals only search last year's census).

It never raises. On any failure it fails closed: the result says `available: False` with a short
reason and carries no figures, and the report then shows only the notice. As a last guard the
published figures are scanned for child IDs, UPNs, full postcodes and dates of birth of the input
(`pseudonymise.scan_text`), as `csc-returns aggregate` scans its files.
"""

from __future__ import annotations

import json
from typing import Any

from csc_returns.returns.load import Loaded

PROFILE = "dfe"


def _headlines(loaded: Loaded, previous: Loaded | None, la: str | None, prof: Any) -> list[dict[str, Any]]:
    """The headline indicators of one return and year, read from its protected tables only."""
    from csc_returns.returns.aggregates import compute, headline_of, population_estimate, service_planning_summary
    from csc_returns.returns.disclosure import protect, verify_all

    est = population_estimate(la, loaded.year)
    notices: list[str] = []
    tables = compute(loaded.return_, loaded.year, loaded.tables, previous.tables if previous else None,
                     est.value if est else None, notices)
    frames = protect([t.table for t in tables], prof)
    verify_all([t.table for t in tables], frames, prof)  # raises DisclosureError: fail closed
    indicators = []
    for t in tables:
        ind = t.indicator
        frame = frames[t.table.id]
        h = headline_of(t, frame)
        if h is not None and h["value"] == prof.symbol:
            h["suppressed"] = True
        if h is not None and h["measure"] == "percent" and ind.percent_base is None:
            h["base"] = _published_total(t, frame)  # the denominator, as published (a number or the symbol)
        indicators.append({"id": ind.id, "return": t.return_, "year": t.year, "title": ind.title, "unit": t.unit,
                           "numerator": ind.numerator, "denominator": ind.denominator, "window": ind.window,
                           "file": t.file, "headline": h})
    out = service_planning_summary({"profile": prof.name, "indicators": indicators})
    bases = {i["id"]: i["headline"].get("base") for i in indicators if i["headline"]}
    for h in out:
        h["base"] = bases.get(h["id"])
    return out


def _published_total(t: Any, frame: Any) -> str | None:
    """The table total's count cell exactly as published, or None."""
    from csc_returns.returns.disclosure import TOTAL

    rows = frame[frame[t.table.column_title] == TOTAL]
    if t.table.two_way:
        rows = rows[rows[t.table.row_title or "row"] == TOTAL]
    if rows.empty or "count" not in rows:
        return None
    v = rows.iloc[0]["count"]
    return None if v is None or v != v else str(v)


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if len(text) > 200:
        text = text[:197] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def planning_for_report(loaded: Loaded | None, previous: Loaded | None = None) -> dict[str, Any]:
    """This year's (and last year's, when given) service-planning headlines for the report.

    Returns {"available": True, "profile", "symbol", "profile_description", "return", "year",
    "previous_year", "la", "rates", "indicators": [...], "notices"} where each indicator carries
    `this` and `last` (the service_planning_summary items, or None); or, on any failure,
    {"available": False, "reason": "<short reason>"} with no figures at all.
    """
    try:
        if loaded is None:
            return {"available": False, "reason": "no return was loaded"}
        from csc_returns.returns import pseudonymise as ps
        from csc_returns.returns.aggregates import load_aggregates, population_estimate
        from csc_returns.returns.disclosure import get_profile

        prof = get_profile(PROFILE)
        la = loaded.la or (previous.la if previous is not None else None)
        now = _headlines(loaded, previous, la, prof)
        before = _headlines(previous, None, la, prof) if previous is not None else []
        before_by_id = {h["id"]: h for h in before}
        titles = {i.id: i.title for i in load_aggregates(loaded.return_).indicators}
        items = []
        for h in now:
            items.append({"id": h["id"], "title": titles.get(h["id"], h["title"]), "this": h,
                          "last": before_by_id.get(h["id"])})
        notices = []
        if previous is None:
            notices.append("Last year's return was not given (--previous), so there is no comparison with last "
                           "year, and measures that look back (such as re-referrals) can only search this return.")
        else:
            notices.append("Last year's figures are computed the same way from last year's return; the return "
                           "before it was not given, so its look-back measures search last year's return only.")
        rates = population_estimate(la, loaded.year) is not None
        if not rates:
            notices.append("No ONS population estimate for this LA and year, so rates per 10,000 children are "
                           "left out and the count is shown instead.")
        doc = {"available": True, "profile": prof.name, "symbol": prof.symbol,
               "profile_description": " ".join(prof.description.split()), "return": loaded.return_,
               "year": loaded.year, "previous_year": previous.year if previous is not None else None,
               "la": la, "rates": rates, "indicators": items, "notices": notices}
        # last guard, as for `csc-returns aggregate`: nothing that identifies a child may be in it
        groups = {loaded.return_: loaded}
        prev_groups = {previous.return_: previous} if previous is not None else {}
        ids = ps.collect_identifiers(groups, prev_groups)
        published = {"indicators": [[i["this"], i["last"]] for i in items]}
        ps.scan_text("planning.json", json.dumps(published, ensure_ascii=False), ids, None)
        return doc
    except Exception as exc:  # fail closed: no figures, a short reason
        return {"available": False, "reason": _reason(exc)}


__all__ = ["PROFILE", "planning_for_report"]
