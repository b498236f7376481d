"""The `csc-returns` command line.

Exit codes: 0 no error findings; 1 error findings (queries too with --fail-on query, warnings with
--fail-on warning); 2 the toolkit could not do its job (unreadable input, bad spec, a rule errored,
a data-quality expectation errored).
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table as RichTable

from csc_returns.returns import __version__
from csc_returns.returns.errors import LoadError, UsageError
from csc_returns.returns.spec import RETURNS, SUPPORTED_YEARS, SpecError

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Load, validate and emit the DfE children's social care returns (CIN census, SSDA903).")
out = Console()
err = Console(stderr=True)


class Format(str, Enum):
    human = "human"
    json = "json"
    csv = "csv"
    junit = "junit"


class FailOn(str, Enum):
    error = "error"
    query = "query"
    warning = "warning"


class Return(str, Enum):
    cin = "cin"
    ssda903 = "ssda903"


def _version(value: bool) -> None:
    if value:
        out.print(f"csc-returns {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """Load, validate and emit the DfE children's social care returns (CIN census, SSDA903)."""


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]csc-returns:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _print_human(result, out_dir: Path | None) -> None:
    from csc_returns.validators.catalogue import describe

    counts = result.counts()
    status = ("[green]ready to submit[/]" if counts["error"] == 0
              else f"[red]{counts['error']} error(s) block submission[/]")
    out.print(f"[bold]{result.return_.upper()} {result.year - 1}-{str(result.year)[2:]}[/] "
              f"({result.children} children, {sum(result.table_rows.values())} records) - {status}; "
              f"{counts['query']} query(ies) to explain, {counts['warning']} warning(s)", highlight=False)
    f = result.findings
    if len(f):
        t = RichTable(title="Findings by rule", show_lines=False)
        for c in ("code", "severity", "records", "children", "message"):
            t.add_column(c, overflow="fold")
        g = f.groupby("code", sort=False).agg(severity=("severity", "first"), records=("code", "size"),
                                              children=("child", "nunique")).reset_index()
        for r in g.head(25).itertuples():
            t.add_row(r.code, r.severity, str(r.records), str(r.children), describe(result.spec, r.code).message)
        out.print(t)
        if len(g) > 25:
            out.print(f"... and {len(g) - 25} more rules with findings (see the report)")
    errored = result.errored_rules()
    if errored:
        err.print(f"[bold red]{len(errored)} rule(s) could not run:[/] {', '.join(errored)} "
                  "(see outcome_reasons in findings.json)")
    skipped = [c for c, o in result.outcomes.items() if o.status == "skipped"]
    if skipped:
        out.print(f"{len(skipped)} rule(s) skipped (e.g. {skipped[0]}: {result.outcomes[skipped[0]].reason})")
    if out_dir:
        out.print(f"Report: {(out_dir / 'report.html').resolve()}")


def _write_outputs(result, loaded, out_dir: Path, compare: Path | None = None) -> None:
    from csc_returns.reports.machine import write_csv, write_json

    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(result, out_dir / "findings.json")
    write_csv(result, out_dir / "findings.csv")
    from csc_returns.reports.html import write_report
    from csc_returns.reports.xlsx import write_xlsx

    write_xlsx(result, out_dir / "findings.xlsx")

    from csc_returns.returns.planning import planning_for_report

    planning = planning_for_report(loaded, getattr(result, "previous_loaded", None))
    write_report(result, out_dir / "report.html", compare=compare, planning=planning)


def _check_gx_docs(no_gx: bool, gx_docs: Path | None) -> None:
    """Data Docs go in a folder of their own: never the current directory or the temp folder."""
    if gx_docs is None:
        return
    if no_gx:
        raise UsageError("--gx-docs needs the GX suites; leave out --no-gx")
    import tempfile

    target = gx_docs.resolve()
    if target in (Path.cwd().resolve(), Path(tempfile.gettempdir()).resolve()):
        raise UsageError(f"--gx-docs {gx_docs}: give Data Docs a folder of their own (GX writes index.html, "
                         "static/, expectations/ and validations/ there), not the current or temporary folder")
    if target.exists() and not target.is_dir():
        raise UsageError(f"--gx-docs {gx_docs}: not a folder")


@app.command()
def validate(
    inputs: Annotated[list[Path], typer.Argument(help="CIN census XML file, or SSDA903 CSV files / a folder of them, or one SSDA903 XML file.")],
    year: Annotated[Optional[int], typer.Option(help="Collection (end) year, e.g. 2026 for 2025-26. Detected if omitted.")] = None,
    previous: Annotated[Optional[list[Path]], typer.Option("--previous", help="Last year's return, for rules that compare years.")] = None,
    out_dir: Annotated[Optional[Path], typer.Option("--out", help="Write report.html, findings.json/.csv/.xlsx here.")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="What to print on stdout.")] = Format.human,
    fail_on: Annotated[FailOn, typer.Option("--fail-on", help="Lowest severity that makes the exit code 1.")] = FailOn.error,
    return_: Annotated[Optional[Return], typer.Option("--return", help="Override return detection.")] = None,
    compare: Annotated[Optional[Path], typer.Option(help="A previous run's findings.json, to show what changed.")] = None,
    # --- GX (issue 7)
    no_gx: Annotated[bool, typer.Option("--no-gx", help="Skip the Great Expectations data-quality suites (DQ-* warnings).")] = False,
    gx_docs: Annotated[Optional[Path], typer.Option("--gx-docs", help="Also build GX Data Docs in this folder (for teams that use GX).")] = None,
    # --- reference data (issue 4): the reporting LA, local postcodes, the Ofsted URN lookup
    la: Annotated[Optional[str], typer.Option("--la", help="Your LA: DfE three-digit number (e.g. 876) or ONS code. 903 rules that compare the placement LA with yours need it.")] = None,
    postcodes: Annotated[Optional[Path], typer.Option("--postcodes", help="Extra postcodes (CSV: postcode, la, easting, northing), looked up before the bundled ONS Postcode Directory.")] = None,
    ofsted: Annotated[Optional[list[Path]], typer.Option("--ofsted", help="Ofsted URN lookup: the social care providers and children's homes lists (XLSX/CSV), for the 903 URN rules.")] = None,
) -> None:
    """Validate a return against the DfE specification and rules for its collection year."""
    from csc_returns.returns.reference import reference_for
    from csc_returns.returns.run import validate as run_validate

    _check_gx_docs(no_gx, gx_docs)
    reference = reference_for(la, postcodes, ofsted)
    result, loaded = run_validate(inputs, previous=previous, year=year, return_=return_.value if return_ else None,
                                  gx=not no_gx, gx_docs=gx_docs, reference=reference)
    # --- end GX
    for n in loaded.notices:
        err.print(f"note: {n}", highlight=False)
    if out_dir:
        _write_outputs(result, loaded, out_dir, compare)
    if fmt == Format.human:
        _print_human(result, out_dir)
    elif fmt == Format.json:
        from csc_returns.reports.machine import to_json

        sys.stdout.write(json.dumps(to_json(result), indent=1, ensure_ascii=False) + "\n")
    elif fmt == Format.csv:
        from csc_returns.reports.machine import error_list, protect_cell

        df = error_list(result)
        sys.stdout.write(df.map(protect_cell).to_csv(index=False))
    else:
        from csc_returns.reports.machine import to_junit

        sys.stdout.write(to_junit(result).decode("utf-8"))
    raise typer.Exit(result.exit_code(fail_on.value))


def _finish_build(result, loaded, out_dir: Path, force: bool) -> None:
    """The one gate before a return is written, whatever it was built from: refuse while rules
    errored or error findings remain (unless --force), keep the XSD check even when forced,
    then write the return and the report (which says when the return was forced)."""
    from csc_returns.returns.writers import WriteError, write_return

    errors = result.counts()["error"]
    if result.errored_rules():
        _write_outputs(result, loaded, out_dir)
        _fail(f"{len(result.errored_rules())} rule(s) could not run, so the return was not written; see {out_dir / 'report.html'}")
    if errors and not force:
        _write_outputs(result, loaded, out_dir)
        _print_human(result, out_dir)
        _fail(f"{errors} error finding(s) remain, so the return was not written. Fix them, or use --force "
              "(the report will say the return was forced).", code=1)
    result.forced = bool(errors)
    try:
        written = write_return(loaded.tables, loaded.spec, out_dir)
    except WriteError as exc:
        _write_outputs(result, loaded, out_dir)
        _fail(str(exc))
    _write_outputs(result, loaded, out_dir)
    _print_human(result, out_dir)
    for p in written:
        out.print(f"Wrote {p}", highlight=False)
    if result.forced:
        err.print(f"[yellow]Written with --force despite {errors} error finding(s); the report says so.[/]")


@app.command()
def build(
    inputs: Annotated[list[Path], typer.Argument(help="The return's input files (CIN XML, or 903 CSVs / folder).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the return files and the report.")],
    year: Annotated[Optional[int], typer.Option(help="Collection (end) year.")] = None,
    force: Annotated[bool, typer.Option(help="Write the return even though error findings remain.")] = False,
    return_: Annotated[Optional[Return], typer.Option("--return", help="Override return detection.")] = None,
    previous: Annotated[Optional[list[Path]], typer.Option("--previous", help="Last year's return.")] = None,
    # --- extracts (issue 5): case-system CSV/XLSX extracts and SSD tables, with an optional profile
    profile: Annotated[Optional[Path], typer.Option("--profile", help="Extract profile (YAML, docs/profiles.md).")] = None,
    la: Annotated[Optional[str], typer.Option("--la", help="Your LA: DfE three-digit number (e.g. 876) or ONS code; the LA number of a CIN return built from extracts, and for the 903 placement-LA rules.")] = None,
    postcodes: Annotated[Optional[Path], typer.Option("--postcodes", help="Extra postcodes (CSV: postcode, la, easting, northing), looked up before the bundled ONS Postcode Directory.")] = None,
    ofsted: Annotated[Optional[list[Path]], typer.Option("--ofsted", help="Ofsted URN lookup: the social care providers and children's homes lists (XLSX/CSV).")] = None,
) -> None:
    """Validate, then write the return files in DfE layout (refused while errors remain, unless --force).

    INPUTS may also be case-system extracts (CSV/XLSX, any layout, or SSD tables): then give --return
    and --year, and optionally --profile."""
    from csc_returns.returns.extracts import is_extract_input
    from csc_returns.returns.reference import reference_for

    reference = reference_for(la, postcodes, ofsted)
    if is_extract_input(inputs, return_.value if return_ else None, profile):
        from csc_returns.returns.extracts_cli import build_extracts

        build_extracts(inputs, out_dir, year, return_.value if return_ else None, profile, la, force, previous,
                       out=out, err=err, finish=_finish_build, reference=reference)
        return
    # --- end extracts
    from csc_returns.returns.run import validate as run_validate

    result, loaded = run_validate(inputs, previous=previous, year=year, return_=return_.value if return_ else None,
                                  reference=reference)
    _finish_build(result, loaded, out_dir, force)


@app.command(context_settings={"allow_extra_args": False})
def rules(
    what: Annotated[Optional[list[str]], typer.Argument(help="[cin|ssda903], or: explain CODE")] = None,
    year: Annotated[int, typer.Option(help="Collection (end) year.")] = max(SUPPORTED_YEARS) - 1,
    fmt: Annotated[str, typer.Option("--format", help="table | csv | json | markdown")] = "table",
    return_: Annotated[Optional[Return], typer.Option("--return", help="For explain: which return.")] = None,
    gx: Annotated[bool, typer.Option("--gx", help="List the Great Expectations suites (catalogue-rule and data-quality expectations) instead.")] = False,
) -> None:
    """List the rule catalogue, or explain one rule: `rules cin`, `rules explain 8500`, `rules --gx`."""
    from csc_returns.reports import ruledocs

    what = list(what or [])
    if what and what[0] == "explain":
        if len(what) != 2:
            _fail("usage: csc-returns rules explain CODE [--return cin|ssda903] [--year YEAR]")
        text = ruledocs.explain(what[1], year, return_.value if return_ else None)
        out.print(text, highlight=False, markup=False)
        return
    returns = [w for w in what if w in RETURNS]
    unknown = [w for w in what if w not in RETURNS]
    if unknown:
        _fail(f"unknown return {unknown[0]!r}; expected one of {', '.join(RETURNS)} or 'explain CODE'")
    if fmt not in ("table", "csv", "json", "markdown"):
        _fail(f"unknown format {fmt!r}; expected table, csv, json or markdown")
    if gx:  # --- GX (issue 7): the compiled suites; GX itself is not imported to list them
        from csc_returns.validators.suites.gx_suite import listing as gx_listing

        if fmt == "markdown":
            _fail("--gx lists as table, csv or json")
        if year not in SUPPORTED_YEARS:
            _fail(f"collection year {year} is not supported; supported: {', '.join(map(str, SUPPORTED_YEARS))}")
        sys.stdout.write(gx_listing(returns or list(RETURNS), year, fmt))
        return
    sys.stdout.write(ruledocs.listing(returns or list(RETURNS), year, fmt))


# Anonymised aggregates for service planning (disclosure-controlled) and the LA's pseudonym key.
from csc_returns.returns.aggregates_cli import aggregate as _aggregate, keygen as _keygen  # noqa: E402

app.command("aggregate")(_aggregate)
app.command("keygen")(_keygen)


# --- extracts (issue 5): `csc-returns profile init EXTRACTS... --return R --year Y`
from csc_returns.returns.extracts_cli import profile_app  # noqa: E402

app.add_typer(profile_app, name="profile")
# --- end extracts


def main() -> None:
    """Entry point: every expected failure is one clear line and exit code 2, never a traceback."""
    try:
        rc = app(standalone_mode=False)  # returns the exit code of typer.Exit in this mode
        sys.exit(rc if isinstance(rc, int) else 0)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (LoadError, UsageError, SpecError) as exc:
        err.print(f"[bold red]csc-returns:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # usage errors from the argument parser, and anything unexpected
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # click's UsageError and kin
            exc.show()
            sys.exit(2)
        if type(exc).__name__ == "Abort":
            sys.exit(130)
        err.print(f"[bold red]csc-returns: internal error:[/] {type(exc).__name__}: {exc}. "
                  "This is a bug in csc-returns; please report it with the command you ran.", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
