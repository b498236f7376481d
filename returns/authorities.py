"""England's local authorities as the DfE numbers them, and the ONS area codes that lead to them.

One place reads `specs/common/population.yaml` (the 153 LAs: DfE three-digit number, ONS code,
name) and `specs/common/districts.yaml` (shire district -> county). The 903's PL_LA is a DfE
number, so an ONS district code from the postcode directory is turned into one here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

from csc_returns.returns.errors import UsageError
from csc_returns.returns.spec import specs_root


def _yaml(*parts: str) -> dict[str, Any]:
    with specs_root().joinpath(*parts).open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@lru_cache(maxsize=None)
def population_file() -> dict[str, Any]:
    return _yaml("common", "population.yaml")


@lru_cache(maxsize=None)
def _districts() -> dict[str, Any]:
    return _yaml("common", "districts.yaml")


@lru_cache(maxsize=None)
def ons_to_number() -> dict[str, str]:
    """ONS area code -> DfE LA number, for every code that leads to an LA: the LA's own code, its
    shire districts (via the county) and recoded districts."""
    las = population_file()["local_authorities"]
    out = {str(v["code"]): str(k) for k, v in las.items()}
    d = _districts()
    for district, county in d["districts"].items():
        out[str(district)] = out[str(county)]
    for new, old in d["recoded"].items():
        out[str(new)] = out[str(old)]
    return out


@dataclass(frozen=True)
class LocalAuthority:
    number: str  # DfE three-digit LA number, e.g. "876"
    code: str | None  # ONS code, e.g. "E06000006"; None for a number that is not an England LA
    name: str | None

    def label(self) -> str:
        return f"{self.number} {self.name}" if self.name else self.number


def reporting_la(text: str) -> LocalAuthority:
    """The LA a return belongs to, from `--la`: a DfE number (876) or an ONS code (E06000006).

    A three-digit number that is not an England LA (the bundled sample data's fictional 999) is
    accepted as given: only a local postcode file can then place a child inside it.
    """
    value = str(text).strip().upper()
    las = population_file()["local_authorities"]
    if re.fullmatch(r"\d{1,3}", value):
        number = value.zfill(3)
        entry = las.get(number)
        return LocalAuthority(number, entry["code"] if entry else None, entry["name"] if entry else None)
    number = ons_to_number().get(value)
    if number is not None and las[number]["code"] == value:
        return LocalAuthority(number, value, las[number]["name"])
    if number is not None:
        raise UsageError(f"--la {text}: {value} is a district of {las[number]['name']}; give the LA "
                         f"that runs children's services ({number} or {las[number]['code']}).")
    raise UsageError(f"--la {text}: not an LA; give the DfE three-digit LA number (e.g. 876) or the "
                     "LA's ONS code (e.g. E06000006).")
