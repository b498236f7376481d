"""One place to look up what a finding code means: DfE rules from the year's catalogue, our own
load and structural checks from `specs/common/checks.yaml`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import yaml

from csc_returns.returns.spec import Spec, specs_root


@dataclass(frozen=True)
class Entry:
    code: str
    severity: str
    message: str
    explain: str
    kind: str
    notes: str | None = None
    dfe: bool = True  # a DfE validation rule (message verbatim) rather than one of our checks


@lru_cache(maxsize=None)
def checks() -> dict[str, Entry]:
    with (specs_root() / "common" / "checks.yaml").open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return {c["code"]: Entry(c["code"], c["severity"], c["message"], c["explain"], "check", None, False)
            for c in data["checks"]}


def describe(spec: Spec, code: str) -> Entry:
    rule = spec.rules.get(code)
    if rule is not None:
        return Entry(rule.code, rule.severity, rule.message, rule.explain, rule.kind, rule.notes, True)
    if code in checks():
        return checks()[code]
    return Entry(code, "error", f"Finding {code}", "", "unknown", None, False)


def messages(spec: Spec, codes: list[str]) -> dict[str, str]:
    return {c: describe(spec, c).message for c in set(codes)}
