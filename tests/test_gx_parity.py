"""Parity: every GX-compiled catalogue rule flags exactly the rows its native kind flags.

Three data sets:
1. every YAML case of every compiled rule (tests/rules/<return>/<code>.yaml), in every year the
   case applies to and the rule compiles in;
2. a generated return with the generator's defects (rule failures on purpose);
3. the bundled sample data (sample_data/data/), when it exists.

Row-wise expectations (everything but uniqueness) give each row a result that depends on that row
only, so the cases of one return and year are stacked into one frame per table (row ids offset per
case) and validated once: GX's fixed cost per validation would otherwise make this test minutes
long. Uniqueness expectations compare rows with each other, so they run case by case.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from csc_returns.returns.load import load
from csc_returns.returns.spec import RETURNS, SUPPORTED_YEARS, resolve
from csc_returns.validators.cases import build_tables, case_years, load_cases, run_case
from csc_returns.validators.engine import Context, run_rules
from csc_returns.validators.suites.gx_run import check_raw, gx_context, rule_flags, run_batches, unexpected_rows
from csc_returns.validators.suites.gx_suite import batch_columns, compile_rules

pytest.importorskip("great_expectations")

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample_data" / "data"
CROSS_ROW = {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}
OFFSET = 1_000_000


def _native(findings: pd.DataFrame) -> set[tuple[str, int]]:
    return {(f.table, int(f.row)) for f in findings.itertuples() if isinstance(f.table, str) and not pd.isna(f.row)}


def _cases(ret: str, year: int):
    """(case, plans) for every YAML case of a rule that compiles in this year."""
    spec = resolve(ret, year)
    plans, _ = compile_rules(spec)
    by_code: dict[str, list] = {}
    for p in plans:
        by_code.setdefault(p.code, []).append(p)
    for code, ps in sorted(by_code.items()):
        for case in load_cases(ret, code):
            if year in case_years(case):
                yield case, ps


@pytest.mark.parametrize("ret", RETURNS)
@pytest.mark.parametrize("year", SUPPORTED_YEARS)
def test_parity_on_the_rule_cases(ret, year):
    spec = resolve(ret, year)
    stacked: dict[str, list[pd.DataFrame]] = {}
    row_plans: dict[str, object] = {}
    expect: dict[tuple[int, str], set[tuple[str, int]]] = {}  # (case index, code) -> native rows
    cross: list[tuple[int, object, dict]] = []
    n = 0
    for i, (case, plans) in enumerate(_cases(ret, year), start=1):
        result, _ = run_case(case, year)
        outcome = result.outcomes[case.code]
        if outcome.status == "skipped":  # the case leaves out the rule's table
            continue
        assert outcome.status in ("passed", "failed"), f"{case.code} {case.name}: native {outcome.status}"
        expect[(i, case.code)] = _native(result.findings)
        tables, _ = build_tables(spec, case.tables)
        table = plans[0].table
        n += 1
        if any(p.type in CROSS_ROW for p in plans):
            cross.append((i, plans, tables))
            continue
        df = tables[table].copy()
        df["_row"] = df["_row"] + i * OFFSET
        stacked.setdefault(table, []).append(df)
        for p in plans:
            row_plans[p.id] = p
    assert n, f"no rule cases for {ret} {year}"

    got: dict[tuple[int, str], set[tuple[str, int]]] = {k: set() for k in expect}
    # row-wise expectations: one validation per table over all cases stacked
    plans = list(row_plans.values())
    batches = {}
    for table, frames in stacked.items():
        cols = batch_columns([p for p in plans if p.table == table])
        batches[table] = pd.concat(frames, ignore_index=True)[["_row", *cols]].set_index("_row")
    raws = run_batches(gx_context(), ret, year, batches, [p for p in plans if p.table in batches])
    errors = {}
    for p in plans:
        problem = check_raw(p, raws[p.id])
        if problem:
            errors[p.id] = problem
            continue
        for r in unexpected_rows(raws[p.id]):
            key = (r // OFFSET, p.code)
            if key in got:  # rows of another rule's cases are not this rule's business
                got[key].add((p.table, r % OFFSET))
    # cross-row expectations: case by case
    for i, cplans, tables in cross:
        flags, errs = rule_flags(spec, tables, codes=[cplans[0].code])
        errors.update(errs)
        got[(i, cplans[0].code)] = flags.get(cplans[0].code, set())
    assert not errors, f"GX expectations errored: {errors}"
    mismatches = {k: (expect[k], got[k]) for k in expect if expect[k] != got[k]}
    assert not mismatches, "GX and the native kind flag different rows (case index, code): (native, gx)\n" + \
        "\n".join(f"{k}: {v}" for k, v in mismatches.items())


def _parity_on_loaded(loaded) -> None:
    spec = loaded.spec
    plans, _ = compile_rules(spec)
    codes = sorted({p.code for p in plans})
    ctx = Context(spec=spec, tables=loaded.tables, absent=loaded.absent)
    native = run_rules(ctx, codes=codes)
    flags, errors = rule_flags(spec, loaded.tables, codes=codes, absent=loaded.absent)
    assert not errors, errors
    compared = 0
    for code in codes:
        o = native.outcomes[code]
        if o.status == "skipped":
            assert not flags.get(code), code
            continue
        assert o.status in ("passed", "failed"), (code, o.reason)
        want = _native(native.findings[native.findings["code"] == code])
        assert flags.get(code, set()) == want, f"{spec.return_} {code}: native {sorted(want)[:10]}, gx {sorted(flags.get(code, set()))[:10]}"
        compared += 1
    assert compared


@pytest.fixture(scope="module")
def generated_with_defects(tmp_path_factory):
    from csc_returns.sample_data.generate import DEFECTS, generate

    names = [d for d in DEFECTS if d != "903_missing_episodes_file"]  # that one hides the Episodes defects
    out = tmp_path_factory.mktemp("gx-parity")
    generate(children=400, year=2026, seed=3, defects=names).write(out)
    return out


@pytest.mark.parametrize("ret", RETURNS)
def test_parity_on_generated_data_with_defects(generated_with_defects, ret):
    folder = generated_with_defects / ret
    inputs = sorted(folder.glob("*.xml"))[:1] if ret == "cin" else [folder]
    loaded = load(inputs)
    _parity_on_loaded(loaded)


@pytest.mark.parametrize("ret", RETURNS)
def test_parity_on_the_bundled_sample_data(ret):
    folder = SAMPLE / ret
    if not folder.is_dir():
        pytest.skip(f"no bundled sample data yet ({folder} is absent); generate it with "
                    "python -m csc_returns.sample_data.generate")
    inputs = sorted(folder.glob("*.xml"))[:1] if ret == "cin" else [folder]
    _parity_on_loaded(load(inputs))
