"""Data-quality expectations as data: `specs/<return>/quality.yaml`, checked by pydantic models.

These are the plausibility checks no DfE rule makes (is the return *believable*, not *valid*).
Every entry names a canonical table and field of `tables.yaml`; thresholds are shares (0 to 1)
or ratios. `since:` / `until:` (inclusive collection end years) work as everywhere else in the
specs, so resolving a year is a filter. Nothing here imports Great Expectations: the checks are
compiled to GX expectations by `gx_suite.py` and run by `gx_run.py`.

Kinds of check (each has its finding code, severity `warning`):

completeness  DQ-COMPLETENESS   the share of records with the field recorded is at least `min`
unknown_share DQ-UNKNOWN-SHARE  the share of "not known" codes (`codes`, or any value with
                                `any_value: true`) is at most `max` (and at least `min`)
volume        DQ-VOLUME         records this year (whole table, and per month of `date_field`)
                                within `min_ratio`..`max_ratio` of last year's (needs --previous)
month_gap     DQ-MONTH-GAP      no month of the collection period has fewer than
                                `min_share_of_mean` of the average month's records
date_spike    DQ-DATE-SPIKE     no single date holds more than `max_share` of the field's dates,
                                or more than `max_share_of_month` of its month's
duplicates    DQ-DUPLICATE      no two records of the table are identical in every field
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from csc_returns.returns.spec import Spec, SpecError, specs_root

CODES = {
    "completeness": "DQ-COMPLETENESS",
    "unknown_share": "DQ-UNKNOWN-SHARE",
    "volume": "DQ-VOLUME",
    "month_gap": "DQ-MONTH-GAP",
    "date_spike": "DQ-DATE-SPIKE",
    "duplicates": "DQ-DUPLICATE",
}
DQ_CODES = tuple(CODES.values())
SUITE_CODE = "DQ-SUITE"  # the suites as a whole could not run (GX missing or broken)

Share = float


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Check(_Strict):
    table: str
    since: int | None = None
    until: int | None = None
    notes: str | None = None


def _share(v: float | None, name: str) -> None:
    if v is not None and not 0 <= v <= 1:
        raise ValueError(f"{name} must be a share between 0 and 1, got {v}")


class Completeness(_Check):
    field: str
    min: Share
    min_records: int = Field(20, ge=1)  # fewer records than this: not checked

    @model_validator(mode="after")
    def _bounds(self) -> "Completeness":
        _share(self.min, "min")
        return self


class UnknownShare(_Check):
    field: str
    label: str  # what the codes mean, in the finding: "ethnicity not obtained or refused"
    codes: list[str] | None = None  # share of these codes among the recorded values
    codeset: str | None = None  # ... or of every code of a code set
    any_value: bool = False  # ... or share of records with any value at all (denominator: all rows)
    max: Share | None = None
    min: Share | None = None
    min_records: int = Field(20, ge=1)

    @model_validator(mode="after")
    def _one_way(self) -> "UnknownShare":
        given = sum([self.codes is not None, self.codeset is not None, self.any_value])
        if given != 1:
            raise ValueError("give exactly one of codes, codeset or any_value: true")
        if self.max is None and self.min is None:
            raise ValueError("give max, min or both")
        _share(self.max, "max")
        _share(self.min, "min")
        if self.max is not None and self.min is not None and self.min > self.max:
            raise ValueError("min is greater than max")
        return self


class Volume(_Check):
    date_field: str | None = None  # also per month of this date (within the collection period)
    min_ratio: float = Field(gt=0)
    max_ratio: float = Field(gt=0)
    min_records: int = Field(50, ge=1)  # last year's count below this: that comparison is not made

    @model_validator(mode="after")
    def _bounds(self) -> "Volume":
        if self.min_ratio > self.max_ratio:
            raise ValueError("min_ratio is greater than max_ratio")
        return self


class MonthGap(_Check):
    date_field: str
    min_share_of_mean: float = Field(gt=0, le=1)
    min_records: int = Field(240, ge=1)  # records in the period below this (20 a month): not checked


class DateSpike(_Check):
    field: str
    max_share: Share | None = None  # of all the field's dates
    min_records: int = Field(100, ge=1)
    max_share_of_month: Share | None = None  # of the dates in the same calendar month
    min_month_records: int = Field(20, ge=1)

    @model_validator(mode="after")
    def _bounds(self) -> "DateSpike":
        if self.max_share is None and self.max_share_of_month is None:
            raise ValueError("give max_share, max_share_of_month or both")
        _share(self.max_share, "max_share")
        _share(self.max_share_of_month, "max_share_of_month")
        return self


class Duplicates(_Check):
    pass


class QualityFile(_Strict):
    return_: Literal["cin", "ssda903"] = Field(alias="return")
    notes: str | None = None
    completeness: list[Completeness] = Field(default_factory=list)
    unknown_share: list[UnknownShare] = Field(default_factory=list)
    volume: list[Volume] = Field(default_factory=list)
    month_gap: list[MonthGap] = Field(default_factory=list)
    date_spike: list[DateSpike] = Field(default_factory=list)
    duplicates: list[Duplicates] = Field(default_factory=list)


AnyCheck = Completeness | UnknownShare | Volume | MonthGap | DateSpike | Duplicates


def _active(c: _Check, year: int) -> bool:
    return (c.since is None or c.since <= year) and (c.until is None or year <= c.until)


@lru_cache(maxsize=None)
def load_quality(return_: str) -> QualityFile:
    path = specs_root() / return_ / "quality.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError(f"cannot read spec file {path}: {exc}") from exc
    try:
        q = QualityFile.model_validate(data)
    except ValidationError as exc:
        raise SpecError(f"invalid spec file {path}:\n{exc}") from exc
    if q.return_ != return_:
        raise SpecError(f"{path}: return is {q.return_!r}, expected {return_!r}")
    return q


def checks_for(spec: Spec) -> list[tuple[str, AnyCheck]]:
    """The year's checks as (kind, check), each checked against the year's tables and fields.

    A check whose table is not part of the year's return (e.g. DoLo before 2027) is left out,
    like a rule with `until:`; a field that does not exist is a spec error.
    """
    q = load_quality(spec.return_)
    out: list[tuple[str, AnyCheck]] = []
    for kind in CODES:
        for c in getattr(q, kind):
            if not _active(c, spec.year) or c.table not in spec.tables:
                continue
            t = spec.tables[c.table]
            for attr in ("field", "date_field"):
                name = getattr(c, attr, None)
                if name is not None and name not in t.field_names:
                    raise SpecError(f"quality.yaml {kind}: {c.table} has no field {name} in {spec.year}")
            if isinstance(c, UnknownShare) and c.codeset is not None:
                spec.codes(c.codeset)  # raises SpecError when unknown
            out.append((kind, c))
    return out
