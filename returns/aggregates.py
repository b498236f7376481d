"""Anonymised aggregates for service planning: indicators as data, disclosure control, fail closed.

`specs/<return>/aggregates.yaml` declares, per return:
  populations  named, vectorised functions below (registered with @population) that return one
               row per unit (child, referral, plan, ...) with the attributes to break it down by;
  dimensions   how an attribute becomes categories (a code set, grouped codes, or numeric bands);
  indicators   population + filters + one or two dimensions + percentages / rate per 10,000,
               each with its numerator, denominator, time window and the choices made.
The engine turns each indicator into a table of true counts (`disclosure.CountTable`), which only
ever leaves this module through disclosure control (`disclosure.protect`) and its verification.

`run_aggregate` is the whole path behind `csc-returns aggregate`: load -> indicators -> protect ->
verify -> (pseudonymised extract) -> write into a temporary folder beside the output folder ->
scan every file for identifiers -> move into place. Any failure removes the temporary folder, so
nothing is written at all.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from csc_returns.returns import __version__
from csc_returns.returns.disclosure import (
    REASON, TOTAL, CountTable, DisclosureError, Profile, get_profile, protect, verify_all,
)
from csc_returns.returns.errors import UsageError
from csc_returns.returns.authorities import population_file
from csc_returns.returns.spec import (
    RETURNS, SpecError, Table, _active, _load_yaml, _validate, load_codesets, resolve, specs_root,
)

Frame = pd.DataFrame


class AggregateError(Exception):
    """The aggregates could not be produced; nothing was written."""


# --------------------------------------------------------------------------- spec models
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Category(_Strict):
    key: str
    label: str
    codes: list[str] = Field(default_factory=list)  # attribute values in this category
    min: int | None = None  # or a numeric band (inclusive)
    max: int | None = None
    notes: str | None = None


class Dimension(_Strict):
    title: str  # the column name in the published table
    column: str  # the population's attribute
    codeset: str | None = None  # categories = that code set's codes and labels for the year
    categories: list[Category] = Field(default_factory=list)
    missing: str | None = None  # label of an extra category for blank / unmatched values
    missing_into: str | None = None  # or: the key of a listed category that takes them
    notes: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> "Dimension":
        if bool(self.codeset) == bool(self.categories):
            raise ValueError("a dimension takes either `codeset` or `categories`")
        keys = [c.key for c in self.categories]
        labels = [c.label for c in self.categories] + ([self.missing] if self.missing else [])
        if len(keys) != len(set(keys)) or len(labels) != len(set(labels)):
            raise ValueError("category keys and labels must be unique")
        if self.missing and self.missing_into:
            raise ValueError("give `missing` or `missing_into`, not both")
        if self.missing_into and self.missing_into not in keys:
            raise ValueError(f"missing_into {self.missing_into!r} is not a category key")
        return self


class Population(_Strict):
    function: str
    unit: str
    window: str
    description: str
    params: dict[str, Any] = Field(default_factory=dict)
    uses_previous: bool = False


class Headline(_Strict):
    measure: Literal["count", "percent", "rate_per_10000"]
    category: str | None = None  # None: the table total


class Indicator(_Strict):
    id: str
    title: str
    population: str
    where: dict[str, str] = Field(default_factory=dict)
    by: list[str] = Field(min_length=1, max_length=2)
    numerator: str
    denominator: str
    window: str
    rate_per_10000: bool = False
    percent: bool = True
    percent_base: list[str] | None = None  # category keys summed for the percentage base
    headline: Headline | None = None
    reference: str = ""
    decisions: list[str] = Field(default_factory=list)
    since: int | None = None
    until: int | None = None


class ExtractSpec(_Strict):
    month_dates: list[str] = Field(default_factory=list)  # dates of birth (and death) -> first of month
    skip_tables: list[str] = Field(default_factory=list)


class AggregatesFile(_Strict):
    return_: Literal["cin", "ssda903"] = Field(alias="return")
    notes: str | None = None
    dimensions: dict[str, Dimension]
    populations: dict[str, Population]
    indicators: list[Indicator]
    extract: ExtractSpec = Field(default_factory=ExtractSpec)
    # named groups of DfE codes the population functions test (short breaks, "started" RNE...)
    code_groups: dict[str, list[str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _references(self) -> "AggregatesFile":
        ids = [i.id for i in self.indicators]
        if len(ids) != len(set(ids)):
            raise ValueError("indicator ids must be unique")
        for p in self.populations.values():
            if p.function not in POPULATIONS:
                raise ValueError(f"population function {p.function!r} is not defined in returns/aggregates.py")
        for i in self.indicators:
            if i.population not in self.populations:
                raise ValueError(f"{i.id}: unknown population {i.population!r}")
            for d in i.by:
                if d not in self.dimensions:
                    raise ValueError(f"{i.id}: unknown dimension {d!r}")
            last = self.dimensions[i.by[-1]]
            keys = {c.key for c in last.categories}
            for k in (i.percent_base or []):
                if last.categories and k not in keys:
                    raise ValueError(f"{i.id}: percent_base category {k!r} is not a category of {i.by[-1]}")
            if i.headline and i.headline.category and last.categories and i.headline.category not in keys:
                raise ValueError(f"{i.id}: headline category {i.headline.category!r} is not a category of {i.by[-1]}")
        # two-way tables may share only their overall total with other tables (disclosure.py)
        groups: dict[tuple, list[Indicator]] = {}
        for i in self.indicators:
            groups.setdefault((i.population, tuple(sorted(i.where.items()))), []).append(i)
        for group in groups.values():
            for i in group:
                if len(i.by) == 2:
                    others = {d for j in group if j is not i for d in j.by}
                    if others & set(i.by):
                        raise ValueError(f"{i.id}: a two-way table shares a breakdown with another table of the same "
                                         "population, so their row or column totals would be linked")
        return self


@lru_cache(maxsize=None)
def load_aggregates(return_: str) -> AggregatesFile:
    path = specs_root() / return_ / "aggregates.yaml"
    return _validate(AggregatesFile, _load_yaml(path), path)


# --------------------------------------------------------------------------- population table
@dataclass(frozen=True)
class PopulationEstimate:
    la: str
    name: str
    mid_year: int
    value: int
    provisional: bool  # the mid-year the DfE would use is not carried yet; an earlier one was used
    source: str
    vintage: str

    def describe(self, year: int) -> dict[str, Any]:
        return {"la": self.la, "la_name": self.name, "collection_year": year, "mid_year_used": self.mid_year,
                "children_0_to_17": self.value, "provisional": self.provisional,
                "note": (f"mid-{year - 1} is not in the bundled table; mid-{self.mid_year} used, so rates are provisional"
                         if self.provisional else f"mid-{self.mid_year}, as the DfE uses for {year - 1}-{str(year)[2:]}"),
                "source": self.source, "vintage": self.vintage}


def _population_file() -> dict[str, Any]:
    return population_file()


def population_estimate(la: str | None, year: int) -> PopulationEstimate | None:
    """The ONS 0-17 estimate for an LA (DfE three-digit number) for a collection year, or None."""
    if not la:
        return None
    data = _population_file()
    entry = data["local_authorities"].get(str(la).strip().zfill(3))
    if entry is None:
        return None
    wanted = year - 1
    years = sorted(int(y) for y in entry if isinstance(y, int))
    usable = [y for y in years if y <= wanted]
    if not usable:
        return None
    used = max(usable)
    return PopulationEstimate(str(la).zfill(3), entry["name"], used, int(entry[used]), used != wanted,
                              " ".join(str(data["source"]).split()), str(data["vintage"]))


# --------------------------------------------------------------------------- inputs
@dataclass
class Inputs:
    """What a population function sees: one return's canonical tables for one year (+ last year's)."""

    return_: str
    year: int
    tables: dict[str, Frame]
    previous: dict[str, Frame] | None = None
    notices: list[str] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=dict)  # aggregates.yaml code_groups

    def codes(self, group: str) -> list[str]:
        """A named code group from specs/<return>/aggregates.yaml (codes are data, not code)."""
        try:
            return self.groups[group]
        except KeyError:
            raise SpecError(f"{self.return_} aggregates.yaml has no code group {group!r}") from None

    @property
    def start(self) -> pd.Timestamp:
        return pd.Timestamp(self.year - 1, 4, 1)

    @property
    def end(self) -> pd.Timestamp:
        return pd.Timestamp(self.year, 3, 31)

    def in_year(self, dates: pd.Series) -> pd.Series:
        return (dates >= self.start) & (dates <= self.end)

    @property
    def working_days(self):
        """The rule engine's Context, reused for its working-day arithmetic (England bank holidays)."""
        from csc_returns.validators.engine import Context

        return Context(spec=resolve(self.return_, self.year), tables=self.tables)

    def table(self, name: str) -> Frame:
        return self.tables[name]

    def with_history(self, name: str, keys: list[str]) -> Frame:
        """This year's table with last year's rows added (this year's wins on the same keys)."""
        cur = self.tables[name]
        if not self.previous or name not in self.previous or self.previous[name].empty:
            return cur
        prev = self.previous[name]
        cols = [c for c in cur.columns if c in prev.columns]
        both = pd.concat([prev[cols].assign(_prev=True), cur[cols].assign(_prev=False)], ignore_index=True)
        return both.drop_duplicates(subset=keys, keep="last").drop(columns="_prev").reset_index(drop=True)

    @property
    def has_history(self) -> bool:
        return bool(self.previous)


POPULATIONS: dict[str, Callable[..., Frame]] = {}


def population(name: str) -> Callable[[Callable[..., Frame]], Callable[..., Frame]]:
    def deco(fn: Callable[..., Frame]) -> Callable[..., Frame]:
        POPULATIONS[name] = fn
        return fn

    return deco


def _child_key(df: Frame, id_col: str) -> pd.Series:
    """The child's ID, or a per-record stand-in when it is blank (never merges two unknown children)."""
    ids = df[id_col].astype("string").str.strip()
    fallback = "#" + (df["_child"].astype("string") if "_child" in df else pd.Series(df.index, index=df.index).astype("string"))
    return ids.mask(ids.isna() | (ids == ""), fallback)


def _yes(mask: pd.Series) -> pd.Series:
    return pd.Series(np.where(mask.fillna(False).to_numpy(dtype=bool), "yes", "no"), index=mask.index, dtype="string")


def _age_on(dob: pd.Series, on: pd.Timestamp) -> pd.Series:
    """Age in whole years on a date (vectorised; NA where the date of birth is blank)."""
    had_birthday = (dob.dt.month < on.month) | ((dob.dt.month == on.month) & (dob.dt.day <= on.day))
    age = on.year - dob.dt.year - (~had_birthday).astype("int64")
    return age.astype("Int64").where(dob.notna())


# --------------------------------------------------------------------------- CIN populations
@population("cin_referrals")
def cin_referrals(x: Inputs, months: int = 12) -> Frame:
    d = x.table("CINdetails")
    ref = d[x.in_year(d["CINreferralDate"])].copy()
    ref["child"] = _child_key(ref, "LAchildID")
    hist = x.with_history("CINdetails", ["LAchildID", "CINreferralDate"])
    h = pd.DataFrame({"child": _child_key(hist, "LAchildID"), "date": hist["CINreferralDate"]}).dropna()
    h = h.drop_duplicates().sort_values(["child", "date"])
    h["previous"] = h.groupby("child")["date"].shift()
    ref = ref.merge(h.rename(columns={"date": "CINreferralDate"}), on=["child", "CINreferralDate"], how="left")
    window_start = ref["CINreferralDate"] - pd.DateOffset(months=months)
    ref["rereferral"] = _yes(ref["previous"].notna() & (ref["previous"] >= window_start))
    if not x.has_history:
        x.notices.append("CIN re-referrals: last year's census not given (--previous), so only referrals in this "
                         "census were searched for a previous referral; the re-referral count is a lower bound.")
    return ref


@population("cin_open_at_end")
def cin_open_at_end(x: Inputs) -> Frame:
    d = x.table("CINdetails")
    nfa = d["ReferralNFA"].fillna(False).astype(bool)
    open_ = (d["CINreferralDate"] <= x.end) & (d["CINclosureDate"].isna() | (d["CINclosureDate"] > x.end)) & ~nfa
    out = d[open_].assign(child=lambda f: _child_key(f, "LAchildID")).sort_values("CINreferralDate")
    out = out.drop_duplicates("child", keep="last")
    return out.assign(primary_need=out["PrimaryNeedCode"])


@population("assessments_completed")
def assessments_completed(x: Inputs, days: int = 45, **params: Any) -> Frame:
    a = x.table("Assessments")
    done = a[x.in_year(a["AssessmentAuthorisationDate"])].copy()
    if params.get("from", "assessment_start") == "referral":
        refs = x.table("CINdetails")[["_episode", "CINreferralDate"]]
        done = done.merge(refs, on="_episode", how="left")
        start = done["CINreferralDate"]
    else:
        start = done["AssessmentActualStartDate"]
    wd = x.working_days.working_days_between(start, done["AssessmentAuthorisationDate"])
    done["working_days"] = wd
    done["timeliness"] = pd.Series(np.where(wd.fillna(-1).to_numpy() <= days, "within", "over"),
                                   index=done.index, dtype="string").mask(wd.isna())
    return done


@population("s47_started")
def s47_started(x: Inputs) -> Frame:
    s = x.table("Section47")
    out = s[x.in_year(s["S47ActualStartDate"])].copy()
    held = out["DateOfInitialCPC"].notna()
    not_required = out["ICPCnotRequired"].fillna(False).astype(bool)
    out["outcome"] = pd.Series(np.select([held.to_numpy(), not_required.to_numpy()], ["icpc", "not_required"], "pending"),
                               index=out.index, dtype="string")
    return out


@population("icpcs_after_s47")
def icpcs_after_s47(x: Inputs, days: int = 15) -> Frame:
    s = x.table("Section47")
    out = s[x.in_year(s["DateOfInitialCPC"]) & s["S47ActualStartDate"].notna()].copy()
    wd = x.working_days.working_days_between(out["S47ActualStartDate"], out["DateOfInitialCPC"])
    out["working_days"] = wd
    out["timeliness"] = pd.Series(np.where(wd.to_numpy(dtype="float", na_value=np.nan) <= days, "within", "over"),
                                  index=out.index, dtype="string")
    return out


@population("cpp_open_at_end")
def cpp_open_at_end(x: Inputs) -> Frame:
    p = x.table("ChildProtectionPlans")
    open_ = (p["CPPstartDate"] <= x.end) & (p["CPPendDate"].isna() | (p["CPPendDate"] > x.end))
    out = p[open_].assign(child=lambda f: _child_key(f, "LAchildID")).sort_values("CPPstartDate")
    out = out.drop_duplicates("child", keep="last").copy()
    start = out["CPPstartDate"]
    e = x.end
    bands = [start >= e - pd.DateOffset(months=3), start >= e - pd.DateOffset(months=6),
             start > e - pd.DateOffset(years=1), start > e - pd.DateOffset(years=2)]
    out["duration_band"] = pd.Series(np.select([b.to_numpy() for b in bands], ["m3", "m6", "y1", "y2"], "y2plus"),
                                     index=out.index, dtype="string")
    out["initial_category"] = out["InitialCategoryOfAbuse"]
    return out


@population("cpp_started")
def cpp_started(x: Inputs) -> Frame:
    p = x.table("ChildProtectionPlans")
    out = p[x.in_year(p["CPPstartDate"])].copy()
    out["child"] = _child_key(out, "LAchildID")
    hist = x.with_history("ChildProtectionPlans", ["LAchildID", "CPPstartDate"])
    first = (pd.DataFrame({"child": _child_key(hist, "LAchildID"), "first": hist["CPPstartDate"]})
             .dropna().groupby("child")["first"].min())
    earlier = out["child"].map(first) < out["CPPstartDate"]
    previous = out["NumberOfPreviousCPP"].fillna(0) >= 1
    out["subsequent"] = _yes(previous | earlier.fillna(False))
    return out


# --------------------------------------------------------------------------- SSDA903 populations


def _episodes(x: Inputs, history: bool = False) -> Frame:
    """This year's episodes (not V3/V4), sorted; with `history`, plus last year's episodes that had ended
    before 1 April (an episode open on 1 April must be in this year's file, so last year's copy of it is
    never used: a child missing from this year's file is not kept looked after by last year's data)."""
    if history and x.previous and "Episodes" in x.previous:
        prev = x.previous["Episodes"]
        prev = prev[prev["DEC"].notna() & (prev["DEC"] < x.start)]
        e = Inputs(x.return_, x.year, x.tables, {"Episodes": prev}, groups=x.groups).with_history(
            "Episodes", ["CHILD", "DECOM"])
    else:
        e = x.table("Episodes")
    e = e[~e["LS"].isin(x.codes("short_breaks"))].copy()
    e["child"] = _child_key(e, "CHILD")
    return e.sort_values(["child", "DECOM", "DEC"], na_position="last").reset_index(drop=True)


def _placement_runs(x: Inputs, e: Frame, new_on: list[str]) -> Frame:
    """Number each child's placements: a run of episodes starts when `new_on` says so (see the spec)."""
    temp = e["PLACE"].isin(x.codes("temporary_placements"))
    after_temp = temp.groupby(e["child"]).shift(fill_value=False).astype(bool)
    nt = e[~temp].copy()
    nt["after_temp"] = after_temp[~temp]
    g = nt.groupby("child")
    prev_place = g["PLACE"].shift()
    post = nt["PL_POST"]
    prev_post = g["PL_POST"].shift()
    prev_dec = g["DEC"].shift()
    first = g.cumcount() == 0
    returned = (nt["after_temp"] & (nt["PLACE"] == prev_place).fillna(False)
                & (post == prev_post).fillna(False) & post.notna())
    foster, adoption = x.codes("foster_placements"), x.codes("adoption_placements")
    adopt_same = nt["PLACE"].isin(x.codes("adoption_with_current_carers")) & prev_place.isin(foster).fillna(False)
    new = nt["RNE"].isin(new_on) & ~returned & ~adopt_same
    nt["carries_on_adoption"] = (nt["PLACE"].isin(adoption) & ~prev_place.isin(adoption).fillna(True)
                                 & (prev_dec == nt["DECOM"]).fillna(False))
    nt["new"] = first | nt["RNE"].isin(x.codes("started_rne")) | new
    nt["run"] = nt.groupby("child")["new"].cumsum()
    return nt


def placements_in_year(x: Inputs, e: Frame) -> pd.Series:
    """Placements (S/P/B/T/U starts, see the spec) open at any time in the year, per child."""
    nt = _placement_runs(x, e, x.codes("new_placement_rne"))
    far = pd.Timestamp("2262-01-01")
    spans = nt.assign(end=nt["DEC"].fillna(far)).groupby(["child", "run"]).agg(start=("DECOM", "min"), end=("end", "max"))
    overlap = (spans["start"] <= x.end) & (spans["end"] >= x.start)
    return overlap.groupby(level="child").sum()


def long_term_stability(x: Inputs, e: Frame, at_end: Frame) -> Frame:
    """cohort_lt: under 16 and looked after for 2.5 years; stable: same carer for 2 years (spec)."""
    started = x.codes("started_rne")
    nt = _placement_runs(x, e, x.codes("new_carer_rne"))
    nt = nt.assign(new=nt["new"] & ~(nt["carries_on_adoption"] & ~nt["RNE"].isin(started)))
    nt["run"] = nt.groupby("child")["new"].cumsum()
    run_start = nt.groupby(["child", "run"])["DECOM"].min()
    # the latest non-temporary episode started by 31 March: the current placement, or the one a child on
    # a temporary move (T0-T4) at 31 March belongs to
    open_ = nt[nt["DECOM"] <= x.end].drop_duplicates("child", keep="last")
    keys = pd.MultiIndex.from_arrays([open_["child"], open_["run"]], names=["child", "run"])
    current_run_start = pd.Series(run_start.reindex(keys).to_numpy(), index=open_["child"].to_numpy())
    starts = e[e["RNE"].isin(started) & (e["DECOM"] <= x.end)].groupby("child")["DECOM"].max()
    earliest = e.groupby("child")["DECOM"].min()
    care_start = starts.reindex(earliest.index).fillna(earliest)
    unknown = ~earliest.index.isin(starts.index)
    if unknown.any() and not x.has_history:
        x.notices.append("SSDA903 long-term stability: for some children the start of the period of care is before "
                         "the earliest episode given; without last year's return (--previous) they are counted "
                         "from that episode, so the cohort may be smaller than the DfE's.")
    children = at_end["child"]
    cs = children.map(care_start)
    rs = children.map(current_run_start)
    cohort = (cs <= x.end - pd.DateOffset(months=30)) & (at_end["age"] < 16)
    stable = rs <= x.end - pd.DateOffset(years=2)
    return pd.DataFrame({"cohort_lt": _yes(cohort), "stable": _yes(stable)}, index=at_end.index)


def _uasc_at(x: Inputs, when: pd.Timestamp) -> set[str]:
    u = x.tables.get("UASC")
    if u is None or u.empty:
        return set()
    ok = u["DUC"].isna() | (u["DUC"] > when)
    return set(_child_key(u[ok], "CHILD").dropna())


@population("cla_open_at_end")
def cla_open_at_end(x: Inputs) -> Frame:
    e = _episodes(x, history=True)
    open_ = (e["DECOM"] <= x.end) & (e["DEC"].isna() | (e["DEC"] > x.end))
    cur = e[open_].drop_duplicates("child", keep="last").copy()
    h = x.table("Header").assign(child=lambda f: _child_key(f, "CHILD")).drop_duplicates("child")
    cur = cur.merge(h[["child", "SEX", "DOB", "ETHNIC"]], on="child", how="left").reset_index(drop=True)
    cur["legal_status"] = cur["LS"]
    cur["placement"] = cur["PLACE"]
    cur["sex"] = cur["SEX"]
    cur["ethnicity"] = cur["ETHNIC"]
    cur["age"] = _age_on(cur["DOB"], x.end)
    cur["uasc"] = _yes(cur["child"].isin(_uasc_at(x, x.end)))
    cur["placements"] = cur["child"].map(placements_in_year(x, e)).fillna(0).astype("int64")
    lt = long_term_stability(x, e, cur)
    return pd.concat([cur, lt], axis=1)


@population("cla_started")
def cla_started(x: Inputs) -> Frame:
    e = _episodes(x)
    s = e[e["RNE"].isin(x.codes("started_rne")) & x.in_year(e["DECOM"])].sort_values("DECOM").drop_duplicates("child", keep="first")
    return s.assign(category_of_need=s["CIN"])


@population("cla_ceased")
def cla_ceased(x: Inputs) -> Frame:
    e = _episodes(x)
    c = e[x.in_year(e["DEC"]) & e["REC"].notna() & ~e["REC"].isin(x.codes("continuing_rec"))]
    c = c.sort_values("DEC").drop_duplicates("child", keep="last")
    return c.assign(reason=c["REC"])


def _missing_in_year(x: Inputs) -> Frame:
    m = x.tables.get("Missing")
    if m is None or m.empty:
        return pd.DataFrame({"child": pd.Series(dtype="string"), "type": pd.Series(dtype="string")})
    ok = (m["MIS_START"] <= x.end) & (m["MIS_END"].isna() | (m["MIS_END"] >= x.start))
    out = m[ok].copy()
    out["child"] = _child_key(out, "CHILD")
    out["type"] = out["MISSING"]
    return out


@population("cla_during_year")
def cla_during_year(x: Inputs) -> Frame:
    e = _episodes(x)
    during = e[(e["DECOM"] <= x.end) & (e["DEC"].isna() | (e["DEC"] >= x.start))].drop_duplicates("child")
    m = _missing_in_year(x)
    missing, away = m["type"].isin(x.codes("missing")), m["type"].isin(x.codes("away"))
    during = during.assign(missing=_yes(during["child"].isin(set(m.loc[missing, "child"]))),
                           away=_yes(during["child"].isin(set(m.loc[away, "child"]))))
    return during


@population("missing_incidents")
def missing_incidents(x: Inputs) -> Frame:
    return _missing_in_year(x)


@population("care_leavers")
def care_leavers(x: Inputs, min_age: int = 17, max_age: int = 21) -> Frame:
    o = x.table("OC3")
    dob = o["DOB"]
    before_april = (dob.dt.month < 4)  # birthday falls Jan-Mar of year Y, else Apr-Dec of Y-1
    birthday_year = pd.Series(np.where(before_april.fillna(False), x.year, x.year - 1), index=o.index)
    age = (birthday_year - dob.dt.year).astype("Int64").where(dob.notna())
    keep = (age >= min_age) & (age <= max_age) & ~o["IN_TOUCH"].isin(x.codes("care_leavers_excluded"))
    out = o[keep.fillna(False)].assign(age=age[keep.fillna(False)])
    out["age_group"] = pd.Series(np.where(out["age"] <= 18, "17to18", "19to21"), index=out.index, dtype="string")
    return out


# --------------------------------------------------------------------------- indicator engine
def categories_of(dim: Dimension, return_: str, year: int) -> list[Category]:
    if dim.categories:
        cats = list(dim.categories)
    else:
        codes = load_codesets(return_)[dim.codeset].resolve(year)
        cats = [Category(key=c, label=label, codes=[c]) for c, label in codes.items()]
    if dim.missing:
        cats.append(Category(key="not_recorded", label=dim.missing))
    return cats


def categorise(values: pd.Series, dim: Dimension, cats: list[Category], where: str) -> pd.Series:
    """Map attribute values to category keys, vectorised (a loop over categories, never rows)."""
    banded = [c for c in cats if c.min is not None or c.max is not None]
    if banded:
        v = pd.to_numeric(values, errors="coerce")
        keys = pd.Series(pd.NA, index=values.index, dtype="string")
        for c in banded:
            lo = -np.inf if c.min is None else c.min
            hi = np.inf if c.max is None else c.max
            keys = keys.mask((v >= lo) & (v <= hi), c.key)
    else:
        mapping = {code: c.key for c in cats for code in c.codes}
        keys = values.astype("string").str.strip().map(mapping).astype("string")
    if dim.missing or dim.missing_into:
        return keys.fillna(dim.missing_into or "not_recorded")
    if keys.isna().any():
        raise AggregateError(f"{where}: {int(keys.isna().sum())} value(s) of {dim.column} fit no category of "
                             f"dimension {dim.title} (add them to the spec or give the dimension a `missing` label)")
    return keys


@dataclass
class IndicatorTable:
    indicator: Indicator
    return_: str
    year: int
    unit: str
    table: CountTable  # the true counts: never written; only its protected rendering is
    categories: list[Category]
    rows: list[Category] | None = None

    @property
    def file(self) -> str:
        return f"{self.return_}/{self.indicator.id}.csv"


def active_indicators(af: AggregatesFile, year: int) -> list[Indicator]:
    return [i for i in af.indicators if _active(i, year)]


def compute(return_: str, year: int, tables: dict[str, Frame], previous: dict[str, Frame] | None = None,
            population_size: int | None = None, notices: list[str] | None = None) -> list[IndicatorTable]:
    """Every active indicator of one return as a table of true counts."""
    af = load_aggregates(return_)
    x = Inputs(return_, year, tables, previous, notices if notices is not None else [], af.code_groups)
    indicators = active_indicators(af, year)
    pops: dict[str, Frame] = {}
    out: list[IndicatorTable] = []
    for ind in indicators:
        pop = af.populations[ind.population]
        if ind.population not in pops:
            try:
                pops[ind.population] = POPULATIONS[pop.function](x, **pop.params)
            except KeyError as exc:
                raise AggregateError(f"{return_} population {ind.population}: a table or column is missing ({exc})") from None
        frame = pops[ind.population]
        for col, val in ind.where.items():
            frame = frame[frame[col].astype("string").eq(val).fillna(False).to_numpy(dtype=bool)]
        dims = [af.dimensions[d] for d in ind.by]
        cats = [categories_of(d, return_, year) for d in dims]
        keys = [categorise(frame[d.column], d, c, ind.id) for d, c in zip(dims, cats)]
        col_keys = [c.key for c in cats[-1]]
        if len(dims) == 1:
            counts = keys[0].value_counts().reindex(col_keys, fill_value=0).to_numpy()[None, :]
            rows, row_labels = None, [""]
        else:
            row_keys = [c.key for c in cats[0]]
            counts = (pd.crosstab(keys[0], keys[1]).reindex(index=row_keys, columns=col_keys, fill_value=0)
                      .to_numpy() if len(frame) else np.zeros((len(row_keys), len(col_keys)), dtype=np.int64))
            rows, row_labels = cats[0], [c.label for c in cats[0]]
        base = None if ind.percent_base is None else [col_keys.index(k) for k in ind.percent_base]
        pop_key = f"{return_}:{ind.population}:" + ",".join(f"{k}={v}" for k, v in sorted(ind.where.items()))
        table = CountTable(
            id=ind.id, population=pop_key, columns=[c.label for c in cats[-1]], counts=counts, rows=row_labels,
            column_title=dims[-1].title, row_title=dims[0].title if len(dims) == 2 else None,
            percent_base=base, percent=ind.percent,
            rate_population=population_size if ind.rate_per_10000 else None,
        )
        out.append(IndicatorTable(ind, return_, year, pop.unit, table, cats[-1], rows))
    return out


# --------------------------------------------------------------------------- published results
def headline_of(it: IndicatorTable, frame: Frame) -> dict[str, Any] | None:
    """The headline figure, read from the PUBLISHED (protected) table only."""
    h = it.indicator.headline
    if h is None:
        return None
    col = it.table.column_title
    label = TOTAL
    if h.category:
        label = next(c.label for c in it.categories if c.key == h.category)
    rows = frame[frame[col] == label]
    if it.table.two_way:
        rows = rows[rows[it.table.row_title or "row"] == TOTAL]
    if rows.empty:
        return None
    r = rows.iloc[0]
    measure = h.measure
    if measure == "rate_per_10000" and "rate_per_10000" not in frame:
        measure = "count"  # no population for the LA: the count is the headline
    value = {"count": r.get("count"), "percent": r.get("percent"),
             "rate_per_10000": frame["rate_per_10000"].iloc[-1] if "rate_per_10000" in frame else None}[measure]
    if value is None or value is pd.NA or value == "" or (isinstance(value, float) and np.isnan(value)):
        return None
    return {"measure": measure, "category": None if not h.category else label, "value": str(value),
            "count": str(r.get("count")), "suppressed": False}


@dataclass
class AggregateResult:
    """What `run_aggregate` produced. Holds only published (protected) tables."""

    out_dir: Path
    profile: str
    returns: dict[str, int]  # return -> collection year
    files: list[str]
    tables: dict[str, Frame]  # file -> published table
    indicators: list[dict[str, Any]]  # metadata + headline per indicator
    report: dict[str, Any]
    extract_files: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def service_planning_summary(source: AggregateResult | Path | str | dict[str, Any]) -> list[dict[str, Any]]:
    """Headline indicators for the HTML report, from the SUPPRESSED tables only.

    `source`: the result of `run_aggregate`, its output folder, or the parsed `indicators.json`.
    Each item: id, return, year, title, unit, measure (count | percent | rate_per_10000), category
    (label or None for the total), value (text as published: a number or the suppression symbol),
    count (the published count behind it), numerator, denominator, window, file, profile.
    """
    if isinstance(source, AggregateResult):
        doc = {"profile": source.profile, "indicators": source.indicators}
    elif isinstance(source, dict):
        doc = source
    else:
        doc = json.loads((Path(source) / "indicators.json").read_text(encoding="utf-8"))
    out = []
    for ind in doc["indicators"]:
        h = ind.get("headline")
        if not h:
            continue
        out.append({"id": ind["id"], "return": ind["return"], "year": ind["year"], "title": ind["title"],
                    "unit": ind["unit"], "measure": h["measure"], "category": h["category"], "value": h["value"],
                    "count": h["count"], "numerator": ind["numerator"], "denominator": ind["denominator"],
                    "window": ind["window"], "file": ind["file"], "profile": doc.get("profile")})
    return out


# --------------------------------------------------------------------------- run
def split_inputs(paths: list[Path]) -> dict[str, list[Path]]:
    """CIN census XML files versus SSDA903 CSV files or XML file (folders are looked into)."""
    from csc_returns.returns.load import xml_return  # by the root element: <EXPSSDA903> is SSDA903

    out: dict[str, list[Path]] = {"cin": [], "ssda903": []}
    for p in map(Path, paths or []):
        if not p.exists():
            raise UsageError(f"{p}: no such file or folder.")
        files = sorted(c for c in p.iterdir() if c.is_file()) if p.is_dir() else [p]
        for f in files:
            if f.suffix.lower() == ".xml":
                out[xml_return(f)].append(f)
            elif f.suffix.lower() == ".csv":
                out["ssda903"].append(f)
    return {k: v for k, v in out.items() if v}


def _csv_bytes(frame: Frame) -> bytes:
    from csc_returns.reports.machine import protect_cell

    f = frame.copy()
    for c in f.columns:
        if pd.api.types.is_string_dtype(f[c]) or f[c].dtype == object:
            f[c] = f[c].map(protect_cell)
    return f.to_csv(index=False, lineterminator="\n").encode("utf-8-sig")


def _prepare_out_dir(out_dir: Path) -> None:
    if out_dir.exists():
        if not out_dir.is_dir():
            raise UsageError(f"{out_dir} exists and is not a folder.")
        contents = [p for p in out_dir.iterdir()]
        if contents and not (out_dir / "disclosure_report.json").exists():
            raise UsageError(f"{out_dir} is not empty and does not hold earlier aggregates; give an empty or new folder "
                             "(the aggregate command replaces its own earlier output only).")


def _move_into_place(tmp: Path, out_dir: Path) -> None:
    old = None
    if out_dir.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
        os.rmdir(old)
        os.replace(out_dir, old)
    try:
        os.replace(tmp, out_dir)
    except BaseException:
        if old is not None:
            os.replace(old, out_dir)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def run_aggregate(inputs: list[Path], previous: list[Path] | None, out_dir: Path, profile: str = "dfe",
                  key_file: Path | None = None, la: str | None = None, extract: bool | None = None) -> AggregateResult:
    """`csc-returns aggregate`: indicators, disclosure control, optional pseudonymised extract; fail closed.

    `extract` defaults to "when a key file is given"; asking for it without a key is refused.
    """
    from csc_returns.returns import pseudonymise as ps
    from csc_returns.returns.load import load
    from csc_returns.returns.run import load_previous

    out_dir = Path(out_dir)
    prof: Profile = get_profile(profile)
    want_extract = bool(key_file) if extract is None else extract
    key = ps.load_key(key_file) if want_extract else None  # refuses (with keygen help) before anything is read
    groups = split_inputs(list(inputs))
    if not groups:
        raise UsageError("no input recognised: give a CIN census .xml file and/or SSDA903 .csv files or a folder of them.")
    prev_groups = split_inputs(list(previous or []))
    _prepare_out_dir(out_dir)

    loaded = {r: load(paths, return_=r) for r, paths in groups.items()}
    prev_loaded = {r: load_previous(prev_groups[r], r, loaded[r].year) for r in loaded if r in prev_groups}
    la_number = la or (loaded["cin"].la if "cin" in loaded else None)
    notices: list[str] = []
    for r, p in prev_groups.items():
        if r not in loaded:
            notices.append(f"--previous has a {r} return but no {r} return was given; it was not used.")
    all_tables: list[IndicatorTable] = []
    pops: dict[str, dict[str, Any]] = {}
    history: dict[str, bool] = {}
    for r, ld in loaded.items():
        est = population_estimate(la_number, ld.year)
        if est is None:
            notices.append(f"{r}: no ONS population for LA {la_number!r} and {ld.year - 1}-{str(ld.year)[2:]}; rates per "
                           "10,000 are left out" + (" (SSDA903 files do not name the LA: give --la)" if not la_number else ""))
        else:
            pops[r] = est.describe(ld.year)
        bad = sum(1 for f in ld.findings if str(f.get("code", "")).startswith("LOAD-") and f.get("severity") == "error")
        if bad:
            notices.append(f"{r}: {bad} value(s) could not be read and count as blank; run `csc-returns validate` first.")
        history[r] = r in prev_loaded
        all_tables += compute(r, ld.year, ld.tables, prev_loaded[r].tables if r in prev_loaded else None,
                              est.value if est else None, notices)
    notices = list(dict.fromkeys(notices))

    frames = protect([t.table for t in all_tables], prof)
    checks = verify_all([t.table for t in all_tables], frames, prof)

    created = [p for p in [out_dir.parent, *out_dir.parent.parents] if not p.exists()]
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        from csc_returns.reports.machine import atomic_write

        files: dict[str, Frame] = {}
        indicators: list[dict[str, Any]] = []
        table_reports: dict[str, Any] = {}
        for t in all_tables:
            frame = frames[t.table.id]
            files[t.file] = frame
            atomic_write(tmp / t.file, _csv_bytes(frame))
            ind = t.indicator
            indicators.append({
                "id": ind.id, "return": t.return_, "year": t.year, "title": ind.title, "unit": t.unit,
                "numerator": ind.numerator, "denominator": ind.denominator, "window": ind.window,
                "reference": ind.reference, "decisions": list(ind.decisions), "file": t.file,
                "breakdown": t.table.column_title, "headline": headline_of(t, frame),
                "rows": frame.astype(object).where(frame.notna(), None).to_dict(orient="records"),
            })
            rep = checks[t.table.id]
            table_reports[t.file] = {"indicator": ind.id, "suppressed_cells": rep["suppressed_cells"],
                                     "why": REASON if rep["suppressed_cells"] else None,
                                     "percentages_and_rates": "suppressed with their counts, or where their denominator is suppressed",
                                     "verified": rep["verified"]}
        for h in indicators:
            if h["headline"] is not None and h["headline"]["value"] == prof.symbol:
                h["headline"]["suppressed"] = True
        extract_files: list[str] = []
        extract_report = None
        if key is not None:
            extract_files, extract_report = ps.write_extract(tmp, loaded, prev_loaded, key)
        report = {
            "tool": "csc-returns", "version": __version__,
            # compact forms: no ISO date anywhere in the outputs, so the date-of-birth scan has no false alarms
            "generated": dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ"),
            "profile": prof.summary(),
            "returns": {r: {"year": ld.year, "period": f"1 April {ld.year - 1} to 31 March {ld.year}",
                            "inputs": [Path(i.path).name for i in ld.inputs], "history_given": history[r]}
                        for r, ld in loaded.items()},
            "population": pops,
            "tables": table_reports,
            "totals": {"tables": len(table_reports),
                       "suppressed_cells": sum(len(v["suppressed_cells"]) for v in table_reports.values())},
            "checks": ["every table re-verified against its true counts: no count in the primary range visible, "
                       "no suppressed cell recoverable from row, column or table totals (linear programme per cell), "
                       "percentages and rates reproduced from the published counts only",
                       "tables of the same population publish the same total",
                       "every file scanned for child IDs, UPNs, full postcodes, dates of birth and the key"],
            "extract": extract_report,
            "notices": notices,
        }
        doc = {"tool": "csc-returns", "version": __version__, "profile": prof.name, "la": la_number,
               "returns": {r: ld.year for r, ld in loaded.items()}, "indicators": indicators}
        atomic_write(tmp / "indicators.json", json.dumps(doc, indent=1, ensure_ascii=False).encode("utf-8"))
        atomic_write(tmp / "disclosure_report.json", json.dumps(report, indent=1, ensure_ascii=False).encode("utf-8"))
        atomic_write(tmp / "README.txt", _readme(prof, report).encode("utf-8"))
        ids = ps.collect_identifiers(loaded, prev_loaded)
        ps.scan_outputs(tmp, ids, key)
        written = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file())
        _move_into_place(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        for p in created:  # folders made only to hold the output go too
            try:
                p.rmdir()
            except OSError:
                break
        raise
    return AggregateResult(out_dir=out_dir, profile=prof.name, returns={r: ld.year for r, ld in loaded.items()},
                           files=written, tables=files, indicators=indicators, report=report,
                           extract_files=extract_files, notices=notices)


def _readme(prof: Profile, report: dict[str, Any]) -> str:
    lines = [
        "csc-returns anonymised aggregates",
        "",
        f"Disclosure profile: {prof.name}. {' '.join(prof.description.split())}",
        f"Suppressed cells are shown as '{prof.symbol}'. Which were small counts and which were suppressed to protect",
        "them is deliberately not said.",
        "",
        "Files:",
        "  <return>/<indicator>.csv   one table per indicator (category, count, percent, rate_per_10000)",
        "  indicators.json            every table with its numerator, denominator, window and DfE reference",
        "  disclosure_report.json     profile, suppressed cells, population vintage, tool version, checks",
    ]
    if report.get("extract"):
        lines += ["  extract/                   PSEUDONYMISED child-level tables (keyed tokens, month of birth,",
                  "                             postcode sectors). Not anonymous: handle as personal data."]
    if report.get("notices"):
        lines += ["", "Notices:"] + [f"  - {n}" for n in report["notices"]]
    return "\n".join(lines) + "\n"


def tables_for_year(return_: str, year: int) -> dict[str, Table]:
    """The return's table specs for a year (the resolver caches the whole year)."""
    return dict(resolve(return_, year).tables)


def canonical_frame(return_: str, year: int, table: str, records: list[dict[str, Any]]) -> Frame:
    """A canonical table from plain records (ISO date strings), typed as the loader types it (tests, tools)."""
    t = tables_for_year(return_, year)[table]
    raw = pd.DataFrame(records)
    n = len(raw)
    out: dict[str, pd.Series] = {"_row": pd.Series(range(1, n + 1), dtype="int64"),
                                 "_source": pd.Series([f"test:{i + 1}" for i in range(n)], dtype="string")}
    for c in raw.columns:
        if c.startswith("_") and c not in out:
            out[c] = raw[c].astype("Int64")
    for f in t.fields:
        col = raw[f.name] if f.name in raw else pd.Series([None] * n, dtype=object)
        if f.type == "date":
            out[f.name] = pd.to_datetime(col, format="%Y-%m-%d").astype("datetime64[ns]")
        elif f.type == "int":
            out[f.name] = pd.array(col, dtype="Int64")
        elif f.type == "bool":
            out[f.name] = pd.array(col, dtype="boolean")
        else:
            out[f.name] = col.astype("string")
    if t.child_field not in out:
        out[t.child_field] = (raw[t.child_field] if t.child_field in raw else pd.Series([None] * n)).astype("string")
    return pd.DataFrame(out).reset_index(drop=True)


def empty_tables(return_: str, year: int) -> dict[str, Frame]:
    return {name: canonical_frame(return_, year, name, []) for name in tables_for_year(return_, year)}


__all__ = ["AggregateError", "AggregateResult", "AggregatesFile", "DisclosureError", "IndicatorTable", "Inputs",
           "POPULATIONS", "canonical_frame", "compute", "empty_tables", "load_aggregates", "population",
           "population_estimate", "run_aggregate", "service_planning_summary", "split_inputs", "RETURNS", "SpecError"]
