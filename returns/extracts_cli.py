"""Command-line side of extracts: `build` on CSV/XLSX/SSD extracts, and `profile init`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Callable, Optional

import typer
from rich.console import Console
from rich.table import Table as RichTable

if TYPE_CHECKING:
    from csc_returns.returns.reference import Reference

# pandas and the extract readers are imported inside the commands: the CLI starts fast

profile_app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                          help="Extract profiles: how an LA's case-system extracts map onto a return.")


def print_matches(report: Any, console: Console) -> None:
    """How each header was matched (exact, synonym, profile, ssd), so the analyst can check it."""
    t = RichTable(title="How the extract's columns were read", show_lines=False)
    for c in ("sheet", "col", "header", "read as", "matched by"):
        t.add_column(c, overflow="fold")
    for m in report.matches:
        style = {"unmatched": "red", "unused": "yellow", "ignored": "dim"}.get(m.how)
        t.add_row(m.sheet, m.column, m.header, m.target or "-", m.how, style=style)
    console.print(t)
    s = report.summary()
    console.print("columns: " + ", ".join(f"{k} {v}" for k, v in sorted(s.items())), highlight=False)
    if report.unrecognised:
        console.print("values not recognised (add them to the profile's `values`): "
                      + "; ".join(f"{k}: {', '.join(repr(v) for v, _ in c.most_common(5))}"
                                  for k, c in sorted(report.unrecognised.items())), highlight=False)


def write_matches(report: Any, path: Path) -> Path:
    import pandas as pd

    from csc_returns.reports.machine import atomic_write, protect_cell

    df = pd.DataFrame([{"sheet": m.sheet, "column": m.column, "header": m.header, "read_as": m.target,
                        "matched_by": m.how} for m in report.matches],
                      columns=["sheet", "column", "header", "read_as", "matched_by"])
    df = df.map(protect_cell)
    return atomic_write(path, df.to_csv(index=False, lineterminator="\n").encode("utf-8-sig"))


def dedupe_value_findings(result: Any) -> None:
    """An unrecognised code is reported once, with the extract's column, not again by the schema."""
    f = result.findings
    if f.empty:
        return
    mask = f["code"].eq("SCHEMA-CODESET")
    if not mask.any():
        return
    dup = f[mask].duplicated(subset=["table", "row", "fields"], keep="first")
    result.findings = f.drop(index=f[mask][dup].index).reset_index(drop=True)


def build_extracts(inputs: list[Path], out_dir: Path, year: int | None, return_: str | None,
                   profile_path: Path | None, la: str | None, force: bool, previous: list[Path] | None,
                   out: Console, err: Console, finish: Callable, reference: Reference | None = None) -> None:
    """`csc-returns build` for case-system extracts: read, validate exactly as a DfE file, then the
    same gate and writers as a DfE file (`finish`, from cli.py)."""
    from csc_returns.returns.extracts import load_extracts
    from csc_returns.returns.extracts_profile import load_profile
    from csc_returns.returns.run import validate_tables

    profile = load_profile(profile_path)
    loaded, report = load_extracts(inputs, return_, year, profile, la=la)
    print_matches(report, out)
    result = validate_tables(loaded, previous, reference=reference)
    dedupe_value_findings(result)
    for n in loaded.notices:
        err.print(f"note: {n}", highlight=False)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_matches(report, out_dir / "extract_columns.csv")
    finish(result, loaded, out_dir, force)


# ------------------------------------------------------------------------------ profile init
def starting_profile(inputs: list[Path], return_: str, year: int, base: Any = None) -> tuple[dict[str, Any], list[str]]:
    """A profile from what was recognised, and the list of what was not."""
    import pandas as pd

    from csc_returns.returns.extracts import load_extracts
    loaded, report = load_extracts(inputs, return_, year, base)
    prof: dict[str, Any] = {"return": return_, "year": year}
    sheets = {label: (tables[0] if len(tables) == 1 else tables) for label, tables in report.sheets if tables}
    if sheets:
        prof["sheets"] = sheets
    headers: dict[str, Any] = {}
    problems: list[str] = []
    for m in report.matches:
        if m.how in ("synonym", "profile") and m.header and "," not in m.target and "(link)" not in m.target \
                and " key " not in m.target:
            headers[m.header] = m.target.split(".", 1)[1] if "." in m.target and m.target.count(".") == 1 else m.target
        elif m.how == "unmatched" and m.header:
            headers[m.header] = None
            problems.append(f"{m.sheet} column {m.column} '{m.header}': not recognised (map it, or `ignore`)")
        elif m.how == "unused":
            problems.append(f"{m.sheet} column {m.column} '{m.header}': names {m.target}, not a table of that sheet")
    if headers:
        prof["headers"] = headers
    values: dict[str, Any] = {}
    for key, counter in sorted(report.unrecognised.items()):
        values[key] = {v: None for v, _ in counter.most_common(50)}
        problems.append(f"{key}: {len(counter)} value(s) not recognised, e.g. "
                        + ", ".join(repr(v) for v, _ in counter.most_common(3)))
    if values:
        prof["values"] = values
    if return_ == "cin":
        lea = loaded.tables["Header"]["LEA"].iloc[0] if len(loaded.tables["Header"]) else None
        prof["constants"] = {"LEA": None if pd.isna(lea) else str(lea)}
        if prof["constants"]["LEA"] is None:
            problems.append("LEA (the LA's three-digit DfE number) is not in the extract: set constants: LEA")
    for f in loaded.findings:
        if f.get("code") == "LOAD-TABLE-MISSING":
            problems.append(f"{f.get('table')}: {f.get('detail')}")
        if f.get("code") == "LOAD-FILE":
            problems.append(str(f.get("detail")))
    return prof, problems


_HEAD = """# csc-returns extract profile (written by `csc-returns profile init`; see docs/profiles.md).
# Check every entry: `headers` lists the names matched by synonym (confirm them) and the names not
# recognised (null: give the DfE item, e.g. Sex or CINdetails.ReferralSource, or `ignore`);
# `values` lists the values not recognised (null: give the DfE code).
"""


@profile_app.command("init")
def init(
    inputs: Annotated[list[Path], typer.Argument(help="The extract files (CSV, XLSX, or a folder of them).")],
    return_: Annotated[str, typer.Option("--return", help="cin or ssda903")],
    year: Annotated[int, typer.Option(help="Collection (end) year, e.g. 2026 for 2025-26.")],
    out_path: Annotated[Optional[Path], typer.Option("--out", help="Where to write the profile (default: print it).")] = None,
    base: Annotated[Optional[Path], typer.Option("--profile", help="Start from this profile.")] = None,
) -> None:
    """Write a starting profile from what was recognised, and list what was not."""
    import yaml

    from csc_returns.returns.extracts_profile import load_profile
    err = Console(stderr=True)
    prof, problems = starting_profile(inputs, return_, year, load_profile(base))
    text = _HEAD + yaml.safe_dump(prof, sort_keys=False, allow_unicode=True, width=110)
    if out_path:
        from csc_returns.reports.machine import atomic_write

        atomic_write(out_path, text.encode("utf-8"))
        err.print(f"Wrote {out_path}", highlight=False)
    else:
        typer.echo(text)
    if problems:
        err.print(f"{len(problems)} thing(s) not recognised:", highlight=False)
        for p in problems:
            err.print(f"  - {p}", highlight=False, markup=False)
    else:
        err.print("everything was recognised", highlight=False)
