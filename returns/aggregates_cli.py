"""The `aggregate` and `keygen` commands, as plain functions for returns/cli.py to register:

    from csc_returns.returns.aggregates_cli import aggregate, keygen
    app.command("aggregate")(aggregate)
    app.command("keygen")(keygen)

Expected failures raise UsageError / LoadError / SpecError (cli.main prints one line, exit 2);
a disclosure or aggregation failure prints one line and exits 2 with nothing written.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

out = Console()
err = Console(stderr=True)


class ProfileName(str, Enum):
    dfe = "dfe"
    strict = "strict"
    internal = "internal"


def aggregate(
    inputs: Annotated[list[Path], typer.Argument(help="CIN census XML and/or SSDA903 CSV files or folders.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the aggregates (created; replaced only if it holds earlier aggregates).")],
    previous: Annotated[Optional[list[Path]], typer.Option("--previous", help="Last year's returns, for re-referrals and placement history.")] = None,
    profile: Annotated[ProfileName, typer.Option(help="Disclosure control: dfe (publish like DfE LA tables), strict (small areas, pooled), internal (the LA's own use).")] = ProfileName.dfe,
    key_file: Annotated[Optional[Path], typer.Option("--key-file", help="The LA's pseudonymisation key: also write a pseudonymised child-level extract.")] = None,
    extract: Annotated[bool, typer.Option("--extract", help="Write the pseudonymised extract (needs --key-file; implied by it).")] = False,
    la: Annotated[Optional[str], typer.Option("--la", help="DfE three-digit LA number, for rates per 10,000 (taken from the CIN header when given).")] = None,
) -> None:
    """Anonymised aggregates for service planning (indicators under disclosure control); nothing is written on any failure."""
    from csc_returns.returns.aggregates import AggregateError, run_aggregate
    from csc_returns.returns.disclosure import DisclosureError

    try:
        result = run_aggregate(inputs, previous, out_dir, profile.value, key_file, la=la,
                               extract=True if extract else None)
    except (AggregateError, DisclosureError) as exc:
        err.print(f"[bold red]csc-returns:[/] {exc} Nothing was written.", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    for n in result.notices:
        err.print(f"note: {n}", highlight=False, soft_wrap=True)
    rep = result.report
    out.print(f"Wrote {len(result.files)} file(s) to {result.out_dir} (profile {result.profile}): "
              f"{rep['totals']['tables']} table(s), {rep['totals']['suppressed_cells']} cell(s) suppressed, "
              "every table verified.", highlight=False)
    if result.extract_files:
        out.print(f"Pseudonymised extract: {len(result.extract_files)} table(s) under {result.out_dir / 'extract'} "
                  f"(key id {rep['extract']['key_id']}). It is personal data: share it only under your data-sharing rules.",
                  highlight=False)


def keygen(
    path: Annotated[Path, typer.Argument(help="Where to write the new key file (must not exist).")],
) -> None:
    """Create the LA's secret pseudonymisation key (HMAC-SHA256). Keep it safe and reuse it every year."""
    from csc_returns.returns.pseudonymise import key_id, keygen as make_key, load_key

    written = make_key(path)
    out.print(f"Wrote a new key to {written} (key id {key_id(load_key(written))}). Keep it secret and backed up, "
              "outside any output folder, and give the same file with --key-file every year so tokens link.",
              highlight=False)
