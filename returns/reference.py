"""Reference data a validation run uses besides the return itself: the reporting LA, the postcode
directory (for the 903's derived placement fields) and the Ofsted URN lookup.

Rules say what they need (`needs: [postcodes, la, ofsted]` in the catalogue); a rule whose
reference data is missing is skipped with the reason, never passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from csc_returns.returns.authorities import LocalAuthority, reporting_la
from csc_returns.returns.postcodes import Chain, Directory, derive_placements, national, read_local_file


@dataclass
class Reference:
    la: LocalAuthority | None = None
    postcodes: Directory | None = None
    ofsted: Any | None = None  # an Ofsted URN lookup (returns/ofsted.py)

    def describe(self) -> dict[str, Any]:
        """What the report and findings.json record about the reference data used."""
        return {"la": self.la.label() if self.la else None,
                "postcodes": self.postcodes.description if self.postcodes else None,
                "ofsted": getattr(self.ofsted, "description", None) if self.ofsted is not None else None}


def reference_for(la: str | None = None, postcodes: Path | None = None, ofsted: list[Path] | None = None) -> Reference:
    """The reference data for a run from the command line's options: the national postcode
    directory (with a local file looked up first), the LA when given, the Ofsted lists when given."""
    directory: Directory = national()
    if postcodes is not None:
        directory = Chain([read_local_file(postcodes), directory])
    lookup = None
    if ofsted:
        from csc_returns.returns.ofsted import read_ofsted

        lookup = read_ofsted(ofsted)
    return Reference(la=reporting_la(la) if la else None, postcodes=directory, ofsted=lookup)


def with_derived(return_: str, tables: dict[str, pd.DataFrame] | None, reference: Reference) -> dict[str, pd.DataFrame] | None:
    """The tables rules see: for the 903, Episodes with the derived placement fields (when a
    postcode directory is available). The loaded tables themselves are left as they were, so
    writers and the structural checks never see derived columns."""
    if tables is None or return_ != "ssda903" or reference.postcodes is None or "Episodes" not in tables:
        return tables
    out = dict(tables)
    out["Episodes"] = derive_placements(tables["Episodes"], reference.postcodes,
                                        reference.la.number if reference.la else None)
    return out
