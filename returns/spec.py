"""The DfE specifications as data: pydantic models for `specs/<return>/` and year resolution.

Anything that changes between years carries `since:` / `until:` (inclusive collection end years).
A value that changes takes a dated map `{2016: old, 2025: new}`: the entry with the greatest key
not after the year applies. Resolving a year is a filter, never a patch.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

RETURNS = ("cin", "ssda903")
SUPPORTED_YEARS = (2025, 2026, 2027)  # years a return can be validated for
LOADABLE_YEARS = (2024, *SUPPORTED_YEARS)  # 2024 only as "last year" for the 2025 return
FieldType = Literal["id", "date", "code", "int", "bool", "string", "postcode", "upn"]
Severity = Literal["error", "query", "warning"]


class SpecError(Exception):
    """A spec file is missing, malformed or inconsistent."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _dated(value: Any, year: int) -> Any:
    """Pick the value in force in `year` from a dated map; plain values pass through."""
    if isinstance(value, dict) and value and all(isinstance(k, int) for k in value):
        keys = [k for k in value if k <= year]
        return value[max(keys)] if keys else None
    return value


def _active(item: Any, year: int) -> bool:
    since = getattr(item, "since", None)
    until = getattr(item, "until", None)
    return (since is None or since <= year) and (until is None or year <= until)


# --------------------------------------------------------------------------- code sets
class Code(_Strict):
    code: str
    label: str
    since: int | None = None
    until: int | None = None
    notes: str | None = None


class CodeSet(_Strict):
    name: str
    description: str
    source: str | None = None
    notes: str | None = None
    codes: list[Code]

    @model_validator(mode="after")
    def _unique(self) -> "CodeSet":
        seen: set[tuple[str, int | None]] = set()
        for c in self.codes:
            key = (c.code, c.since)
            if key in seen:
                raise ValueError(f"code {c.code!r} listed twice in code set {self.name}")
            seen.add(key)
        return self

    def resolve(self, year: int) -> dict[str, str]:
        return {c.code: c.label for c in self.codes if _active(c, year)}


# --------------------------------------------------------------------------- tables
class FieldSpec(_Strict):
    name: str
    type: FieldType
    description: str = ""
    item: str | None = None  # DfE item number (CBDS N-number for CIN)
    required: bool | dict[int, bool] = False  # mandatory in the return's structure
    codeset: str | dict[int, str | None] | None = None
    max_length: int | None = None
    pattern: str | None = None  # regular expression the whole value must match
    min: int | None = None
    max: int | None = None
    xml: str | None = None  # XML form: element path from the table's record element (903: `..` steps up)
    since: int | None = None
    until: int | None = None
    notes: str | None = None


class TableSpec(_Strict):
    name: str
    description: str = ""
    # XML form: the record element's path from the root (CIN <Message>: for tables without a
    # parent; 903 <EXPSSDA903>); CIN value tables use the element itself.
    xml: str | None = None
    parent: str | None = None  # CIN: table whose record element encloses this one
    key: str | None = None  # CIN: surrogate key column this table introduces (e.g. _episode)
    # CIN: element order inside the record: field names and `@Table` for nested tables.
    elements: list[str] | None = None
    file: str | None = None  # 903: DfE CSV file name
    child_field: str | None = None  # the field that identifies the child (LAchildID / CHILD)
    level: Literal["return", "child", "row"] = "row"
    occurs: str = "0..n"  # CIN: cardinality of the record element inside its parent
    since: int | None = None
    until: int | None = None
    fields: list[FieldSpec]
    notes: str | None = None


class TablesFile(_Strict):
    return_: Literal["cin", "ssda903"] = Field(alias="return")
    date_format: str  # strptime format of dates in the DfE file
    booleans: dict[str, bool]  # the texts a yes/no item may hold (matched case-insensitively)
    child_field: str
    tables: list[TableSpec]
    notes: str | None = None


# --------------------------------------------------------------------------- rules
class RuleSpec(_Strict):
    code: str
    severity: Severity | dict[int, Severity]
    message: str | dict[int, str]
    kind: str
    params: dict[str, Any] = Field(default_factory=dict)
    level: Literal["row", "child", "return"] = "row"
    tables: list[str] = Field(default_factory=list)  # derived from params when omitted
    fields: list[str] = Field(default_factory=list)
    since: int | None = None
    until: int | None = None
    explain: str = ""  # plain English: what it checks and how to fix it
    notes: str | None = None  # our caveats, never in the DfE message
    needs: list[Literal["previous", "postcodes", "la", "ofsted"]] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)
    reason: str | None = None  # for kind: not_implemented

    @field_validator("code", mode="before")
    @classmethod
    def _code_str(cls, v: Any) -> str:
        return str(v)


class RuleFile(_Strict):
    rules: list[RuleSpec]


# --------------------------------------------------------------------------- resolved
class Field_(_Strict):
    """A field as it stands in one collection year."""

    name: str
    type: FieldType
    description: str
    item: str | None
    required: bool
    codeset: str | None
    max_length: int | None
    pattern: str | None
    min: int | None
    max: int | None
    xml: str | None


class Table(_Strict):
    name: str
    description: str
    xml: str | None
    parent: str | None
    key: str | None
    elements: list[str]
    file: str | None
    child_field: str
    level: str
    occurs: str
    fields: list[Field_]

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field_:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name}")


class Rule(_Strict):
    code: str
    severity: Severity
    message: str
    kind: str
    params: dict[str, Any]
    level: str
    tables: list[str]
    fields: list[str]
    since: int | None
    until: int | None
    explain: str
    notes: str | None
    needs: list[str]
    aliases: list[str]
    reason: str | None


class Spec(_Strict):
    """One return's specification resolved for one collection year."""

    return_: str
    year: int
    date_format: str
    booleans: dict[str, bool]
    tables: dict[str, Table]
    codesets: dict[str, dict[str, str]]
    rules: dict[str, Rule]

    @property
    def period_start(self) -> dt.date:
        return dt.date(self.year - 1, 4, 1)

    @property
    def period_end(self) -> dt.date:
        return dt.date(self.year, 3, 31)

    def key_columns(self, table: str) -> list[str]:
        """CIN surrogate keys a table's rows carry: every ancestor's, then its own (outermost first)."""
        keys: list[str] = []
        cur = self.tables.get(table)
        while cur is not None:
            if cur.key:
                keys.insert(0, cur.key)
            cur = self.tables.get(cur.parent) if cur.parent else None
        return keys

    def codes(self, name: str) -> dict[str, str]:
        try:
            return self.codesets[name]
        except KeyError:
            raise SpecError(f"{self.return_} {self.year}: no code set {name!r}") from None

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


# --------------------------------------------------------------------------- loading
def specs_root() -> Path:
    return Path(str(resources.files("csc_returns.specs")))


def _load_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError(f"cannot read spec file {path}: {exc}") from exc


def _validate(model: type[BaseModel], data: Any, path: Path) -> Any:
    try:
        return model.model_validate(data)
    except Exception as exc:  # pydantic.ValidationError, with the file named
        raise SpecError(f"invalid spec file {path}:\n{exc}") from exc


@lru_cache(maxsize=None)
def load_tables(return_: str) -> TablesFile:
    path = specs_root() / return_ / "tables.yaml"
    return _validate(TablesFile, _load_yaml(path), path)


@lru_cache(maxsize=None)
def load_codesets(return_: str) -> dict[str, CodeSet]:
    out: dict[str, CodeSet] = {}
    for folder in (specs_root() / "common" / "codesets", specs_root() / return_ / "codesets"):
        for path in sorted(folder.glob("*.yaml")):
            cs = _validate(CodeSet, _load_yaml(path), path)
            if cs.name != path.stem:
                raise SpecError(f"{path}: code set name {cs.name!r} must match the file name")
            out[cs.name] = cs  # a return's own code set overrides a common one
    return out


@lru_cache(maxsize=None)
def load_rules(return_: str) -> list[RuleSpec]:
    rules: list[RuleSpec] = []
    seen: dict[str, Path] = {}
    for path in sorted((specs_root() / return_ / "rules").glob("*.yaml")):
        data = _load_yaml(path) or {"rules": []}
        for r in _validate(RuleFile, data, path).rules:
            key = f"{r.code}@{r.since}"
            if key in seen:
                raise SpecError(f"rule {r.code} (since {r.since}) declared in {seen[key]} and {path}")
            seen[key] = path
            rules.append(r)
    return rules


def _resolve_table(t: TableSpec, tf: TablesFile, year: int, active: set[str]) -> Table:
    fields: list[Field_] = []
    for f in t.fields:
        if not _active(f, year):
            continue
        if any(x.name == f.name for x in fields):
            raise SpecError(f"{tf.return_} {t.name}.{f.name} is declared twice for {year}")
        fields.append(
            Field_(
                name=f.name,
                type=f.type,
                description=f.description,
                item=f.item,
                required=bool(_dated(f.required, year)),
                codeset=_dated(f.codeset, year),
                max_length=f.max_length,
                pattern=f.pattern,
                min=f.min,
                max=f.max,
                xml=f.xml,
            )
        )
    names = {f.name for f in fields}
    elements = [e for e in (t.elements or [f.name for f in t.fields])
                if (e.startswith("@") and e[1:] in active) or e in names]
    return Table(
        name=t.name,
        description=t.description,
        xml=t.xml,
        parent=t.parent,
        key=t.key,
        elements=elements,
        file=t.file,
        child_field=t.child_field or tf.child_field,
        level=t.level,
        occurs=t.occurs,
        fields=fields,
    )


def _rule_tables(r: RuleSpec) -> list[str]:
    if r.tables:
        return list(r.tables)
    p = r.params
    found = [p[k] for k in ("table", "other_table") if isinstance(p.get(k), str)]
    found += [t for t in p.get("tables", []) if isinstance(t, str)]
    return list(dict.fromkeys(found))


def _rule_fields(r: RuleSpec) -> list[str]:
    if r.fields:
        return list(r.fields)
    p = r.params
    found: list[str] = []
    for k in ("field", "left", "right", "start", "end", "other_field", "date", "when_field"):
        v = p.get(k)
        if isinstance(v, str):
            found.append(v)
    for k in ("fields", "keys"):
        found += [v for v in p.get(k, []) if isinstance(v, str)]
    return list(dict.fromkeys(found))


def resolve_rule(r: RuleSpec, year: int) -> Rule:
    return Rule(
        code=r.code,
        severity=_dated(r.severity, year),
        message=_dated(r.message, year),
        kind=r.kind,
        params=r.params,
        level=r.level,
        tables=_rule_tables(r),
        fields=_rule_fields(r),
        since=r.since,
        until=r.until,
        explain=r.explain,
        notes=r.notes,
        needs=list(r.needs),
        aliases=list(r.aliases),
        reason=r.reason,
    )


@lru_cache(maxsize=None)
def resolve(return_: str, year: int) -> Spec:
    """That year's tables, code sets and rules for one return."""
    if return_ not in RETURNS:
        raise SpecError(f"unknown return {return_!r}; expected one of {', '.join(RETURNS)}")
    if year not in LOADABLE_YEARS:
        raise SpecError(
            f"collection year {year} is not supported; supported years: "
            + ", ".join(f"{y} ({y - 1}-{str(y)[2:]})" for y in SUPPORTED_YEARS)
        )
    tf = load_tables(return_)
    active = {t.name for t in tf.tables if _active(t, year)}
    tables = {t.name: _resolve_table(t, tf, year, active) for t in tf.tables if t.name in active}
    codesets = {name: cs.resolve(year) for name, cs in load_codesets(return_).items()}
    for t in tables.values():
        for f in t.fields:
            if f.codeset and f.codeset not in codesets:
                raise SpecError(f"{return_} {t.name}.{f.name}: unknown code set {f.codeset!r}")
    rules = {r.code: resolve_rule(r, year) for r in load_rules(return_) if _active(r, year)}
    return Spec(
        return_=return_,
        year=year,
        date_format=tf.date_format,
        booleans={k.lower(): v for k, v in tf.booleans.items()},
        tables=tables,
        codesets=codesets,
        rules=rules,
    )


def resolved_summary(return_: str, year: int) -> dict[str, Any]:
    """A stable, readable dump of a resolved spec, used by the golden-file test."""
    s = resolve(return_, year)
    return {
        "return": return_,
        "year": year,
        "tables": {
            t.name: {f.name: {k: v for k, v in f.model_dump().items() if v not in (None, "", False) and k not in ("name", "description")} for f in t.fields}
            for t in s.tables.values()
        },
        "codesets": {k: sorted(v) for k, v in sorted(s.codesets.items())},
        "rules": {
            code: {"severity": r.severity, "kind": r.kind, "message": r.message}
            for code, r in sorted(s.rules.items())
        },
    }
