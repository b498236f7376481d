"""Extract profiles: how one LA's case-system extracts map onto a DfE return (YAML, see docs/profiles.md).

    return: cin                       # optional; --return on the command line wins
    year: 2026                        # optional; --year wins
    date_formats: ["%d.%m.%y"]        # tried before the built-in date forms
    sheets:                           # which file / sheet holds which table(s)
      "Children": Child               #   a sheet name, a file name, or "file.xlsx[Sheet]" (globs allowed)
      "cla_*.csv": [Header, Episodes]
    headers:                          # extra header names -> DfE item ("Table.Field" or "Field")
      "Gender at birth": Sex
      "Ref Source": CINdetails.ReferralSource
      "Referral No": CINdetails ID    #   a CIN record ID column (links flat tables)
      "Worker name": ignore           #   read nothing from this column, report nothing
    values:                           # value words -> codes, per field, "Table.Field" or code set
      Sex: {Boy: M, Girl: F}
      ethnicity: {"White English": WBRI}
    constants:                        # items not in the extract, the same for every record
      LEA: "999"
    ignore_columns: ["Notes"]
    ssd:                              # Standard Safeguarding Dataset options
      child_id: pers_person_id        #   or pers_legacy_id
    translations: {}                  # extra SSD value translations (see specs/ssd/codes.yaml)

Unknown keys are refused (a typo must not be silently ignored).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from csc_returns.returns.errors import UsageError


class SsdOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    child_id: str = "pers_person_id"


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    return_: str | None = Field(default=None, alias="return")
    year: int | None = None
    description: str | None = None
    date_formats: list[str] = Field(default_factory=list)
    sheets: dict[str, str | list[str]] = Field(default_factory=dict)
    headers: dict[str, str | None] = Field(default_factory=dict)
    values: dict[str, dict[str, Any]] = Field(default_factory=dict)
    constants: dict[str, Any] = Field(default_factory=dict)
    ignore_columns: list[str] = Field(default_factory=list)
    ssd: SsdOptions = Field(default_factory=SsdOptions)
    translations: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("return_")
    @classmethod
    def _ret(cls, v: str | None) -> str | None:
        if v is not None and v not in ("cin", "ssda903"):
            raise ValueError("return must be cin or ssda903")
        return v

    @field_validator("values", "translations", mode="before")
    @classmethod
    def _stringify(cls, v: Any) -> Any:
        # YAML reads `Yes: 1` keys as booleans and 01 as numbers; keys are the extract's words
        if isinstance(v, dict):
            return {str(k): ({_key(a): b for a, b in (m or {}).items()} if isinstance(m, dict) else m)
                    for k, m in v.items()}
        return v

    @field_validator("headers", mode="before")
    @classmethod
    def _headers(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {str(k): (None if m is None else str(m)) for k, m in v.items()}
        return v

    def sheet_tables(self, file_name: str, sheet_name: str | None) -> list[str] | None:
        """Tables the profile assigns to this file/sheet, or None when it says nothing."""
        from fnmatch import fnmatchcase

        names = [file_name] + ([sheet_name, f"{file_name}[{sheet_name}]"] if sheet_name else [])
        for pattern, tables in self.sheets.items():
            if any(fnmatchcase(n.casefold(), pattern.casefold()) for n in names):
                return [tables] if isinstance(tables, str) else list(tables)
        return None


def _key(k: Any) -> str:
    if isinstance(k, bool):
        return "Yes" if k else "No"
    return str(k)


def load_profile(path: Path | None) -> Profile | None:
    if path is None:
        return None
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"{path}: the profile could not be read ({exc}).") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: a profile is a YAML mapping (see docs/profiles.md).")
    try:
        return Profile.model_validate(data)
    except Exception as exc:
        raise UsageError(f"{path}: the profile is not valid:\n{exc}") from None
