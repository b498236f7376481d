"""The data-quality (GX) suites at work: clean returns report nothing, each injected anomaly is
reported, results map back to records, GX failures are `errored` (exit 2) and never findings,
warnings change the exit code only with --fail-on warning, Data Docs go where they are told, and
nothing is written outside the output folder or sent over the network."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from csc_returns.returns.load import load
from csc_returns.returns.spec import resolve
from csc_returns.sample_data.anomalies import ANOMALIES
from csc_returns.validators.suites import gx_run
from csc_returns.validators.suites.gx_suite import Planned
from csc_returns.validators.suites.quality import DQ_CODES

pytest.importorskip("great_expectations")

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample_data" / "data"
CHILD_TABLE = {"cin": "Child", "ssda903": "Header"}


def _inputs(folder: Path) -> list[Path]:
    xml = sorted(folder.glob("*.xml"))
    return xml[:1] if xml else [folder]


def _load_pair(root: Path, ret: str):
    cur = load(_inputs(root / ret))
    prev = load(_inputs(root / f"{ret}_previous"), return_=ret, year=cur.year - 1, validate_year=False)
    return cur, prev


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A clean generated return, big enough that every check runs (about 600 children looked after)."""
    from csc_returns.sample_data.generate import generate

    out = tmp_path_factory.mktemp("gx-quality")
    generate(children=3000, year=2026, seed=11).write(out)
    return {ret: _load_pair(out, ret) for ret in ("cin", "ssda903")}


def _quality(loaded, prev=None, tables=None):
    return gx_run.run_quality(loaded.spec, tables if tables is not None else loaded.tables,
                              previous=prev.tables if prev is not None else None, absent=loaded.absent)


# ------------------------------------------------------------------------------ clean data
@pytest.mark.parametrize("ret", ["cin", "ssda903"])
def test_the_clean_generated_return_reports_nothing(generated, ret):
    cur, prev = generated[ret]
    q = _quality(cur, prev)
    assert q.findings.empty, q.findings.to_string()
    assert set(q.outcomes) == set(DQ_CODES)
    assert {o.status for o in q.outcomes.values()} == {"passed"}, {c: o.reason for c, o in q.outcomes.items()}
    assert all(o.reason for o in q.outcomes.values()), "a passed check says what it measured"


@pytest.mark.parametrize("ret", ["cin", "ssda903"])
def test_the_bundled_sample_reports_nothing(ret):
    if not (SAMPLE / ret).is_dir():
        pytest.skip(f"no bundled sample data yet ({SAMPLE / ret} is absent)")
    cur, prev = _load_pair(SAMPLE, ret)
    q = _quality(cur, prev)
    assert q.findings.empty, q.findings.to_string()
    assert not [c for c, o in q.outcomes.items() if o.status == "errored"]


def test_without_last_year_the_volume_check_is_skipped(generated):
    cur, _ = generated["cin"]
    q = _quality(cur)
    assert q.outcomes["DQ-VOLUME"].status == "skipped"
    assert "--previous" in q.outcomes["DQ-VOLUME"].reason
    assert q.outcomes["DQ-MONTH-GAP"].status == "passed"


# ------------------------------------------------------------------------------ anomalies
@pytest.mark.parametrize("ret", ["cin", "ssda903"])
def test_a_month_with_no_records_is_reported(generated, ret):
    cur, prev = generated[ret]
    before = {k: v.copy() for k, v in cur.tables.items()}
    tables = ANOMALIES["empty_month"](cur.tables, cur.spec)
    for k, v in before.items():  # the input is never changed
        pd.testing.assert_frame_equal(cur.tables[k], v)
    table = "CINdetails" if ret == "cin" else "Episodes"
    q = _quality(cur, prev, tables)
    f = q.findings
    gap = f[(f["code"] == "DQ-MONTH-GAP") & (f["table"] == table)]
    assert len(gap) == 1 and "June 2025" in gap["value"].iloc[0] and "2025-06-01" in gap["value"].iloc[0]
    if ret == "cin":  # ~260 referrals a month; 903 episodes (~40 a month) are too few to compare months
        vol = f[(f["code"] == "DQ-VOLUME") & (f["table"] == table)]
        assert vol["value"].str.contains("June 2025").any(), f.to_string()
    assert set(f["severity"]) == {"warning"}
    assert "DQ-MONTH-GAP" in set(_quality(cur, None, tables).findings["code"])  # also without last year


@pytest.mark.parametrize("ret", ["cin", "ssda903"])
def test_a_burst_of_unknown_ethnicity_is_reported(generated, ret):
    cur, prev = generated[ret]
    tables = ANOMALIES["unknown_burst"](cur.tables, cur.spec)
    f = _quality(cur, prev, tables).findings
    hit = f[f["code"] == "DQ-UNKNOWN-SHARE"]
    assert len(hit) == 1 and hit["table"].iloc[0] == CHILD_TABLE[ret]
    assert hit["fields"].iloc[0] == ("Ethnicity" if ret == "cin" else "ETHNIC")
    assert "at most 10 %" in hit["detail"].iloc[0]
    assert set(f["code"]) == {"DQ-UNKNOWN-SHARE"}


@pytest.mark.parametrize("ret", ["cin", "ssda903"])
def test_a_duplicated_table_is_reported_record_by_record(generated, ret):
    cur, prev = generated[ret]
    table = "CINdetails" if ret == "cin" else "Episodes"
    tables = ANOMALIES["duplicate_table"](cur.tables, cur.spec)
    f = _quality(cur, prev, tables).findings
    dup = f[f["code"] == "DQ-DUPLICATE"]
    n = len(tables[table])
    assert n == 2 * len(cur.tables[table])
    assert set(dup["table"]) == {table} and len(dup) == n, "every copy is flagged"
    assert sorted(dup["row"].astype(int)) == list(range(1, n + 1)), "findings map back to _row"
    df = tables[table].set_index("_row")
    cf = cur.spec.tables[table].child_field
    assert (dup["child"].to_numpy() == df.loc[dup["row"].astype(int), cf].to_numpy()).all()
    assert dup["source"].notna().all() and dup["detail"].str.startswith("identical to row").all()


@pytest.mark.parametrize("ret", ["cin", "ssda903"])
def test_one_date_for_a_whole_month_is_reported(generated, ret):
    cur, prev = generated[ret]
    table, field = ("Assessments", "AssessmentActualStartDate") if ret == "cin" else ("Reviews", "REVIEW")
    tables = ANOMALIES["same_date"](cur.tables, cur.spec)
    f = _quality(cur, prev, tables).findings
    spike = f[f["code"] == "DQ-DATE-SPIKE"]
    assert len(spike) == 1, f.to_string()  # one finding per date, however many thresholds it breaks
    assert spike["table"].iloc[0] == table and spike["value"].iloc[0] == f"{field}=2026-03-15"
    assert "in March 2026 (100.0 %)" in spike["detail"].iloc[0]


# ------------------------------------------------------------------------------ GX failures
def _string_bound_plan(spec) -> Planned:
    return Planned(id="DQ-DATE-SPIKE:test-string-bound", origin="dq", code="DQ-DATE-SPIKE", batch="Child",
                   table="Child", type="expect_column_values_to_be_between",
                   kwargs={"column": "PersonBirthDate", "max_value": "2026-03-31"}, fields=("PersonBirthDate",))


def test_an_expectation_that_raises_inside_gx_is_errored_never_a_finding(monkeypatch, generated):
    """GX 1.24 on pandas 3 errors internally on a string date bound and reports success=False with no
    rows: that must be `errored` (exit code 2), not a finding and not a pass."""
    cur, prev = generated["cin"]
    real = gx_run.compile_quality
    monkeypatch.setattr(gx_run, "compile_quality", lambda spec: real(spec) + [_string_bound_plan(spec)])
    q = _quality(cur, prev)
    o = q.outcomes["DQ-DATE-SPIKE"]
    assert o.status == "errored" and "compar" in o.reason and "test-string-bound" in o.reason
    assert q.findings.empty
    assert q.outcomes["DQ-COMPLETENESS"].status == "passed"  # the other checks still ran


def test_gx_errors_make_the_run_exit_2(monkeypatch):
    from csc_returns.returns.run import validate

    def broken(spec):
        return [Planned(id="DQ-COMPLETENESS:nope", origin="dq", code="DQ-COMPLETENESS", batch="Episodes",
                        table="Episodes", type="expect_column_values_to_not_be_null",
                        kwargs={"column": "NO_SUCH_COLUMN"})]

    monkeypatch.setattr(gx_run, "compile_quality", broken)
    result, _ = validate([REPO / "tests" / "fixtures" / "ssda903" / "2026"])
    assert result.outcomes["DQ-COMPLETENESS"].status == "errored"
    assert result.exit_code() == 2 and result.exit_code("warning") == 2


def test_gx_missing_is_an_errored_suite_not_a_crash(monkeypatch, generated):
    cur, _ = generated["ssda903"]

    def no_gx(docs_dir=None):
        raise gx_run.GXUnavailable("great_expectations could not be imported (test); run with --no-gx")

    monkeypatch.setattr(gx_run, "gx_context", no_gx)
    q = _quality(cur)
    assert q.outcomes["DQ-SUITE"].status == "errored" and "--no-gx" in q.outcomes["DQ-SUITE"].reason
    assert all(o.status in ("errored", "skipped") for o in q.outcomes.values())


def test_no_network_during_the_suites(monkeypatch, generated, tmp_path):
    import socket

    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    cur, prev = generated["ssda903"]
    q = gx_run.run_quality(cur.spec, cur.tables, previous=prev.tables, docs_dir=tmp_path / "docs")
    assert not attempts, f"GX tried to reach the network: {attempts}"
    assert os.environ.get("GX_ANALYTICS_ENABLED") == "False"
    assert {o.status for o in q.outcomes.values()} == {"passed"}


# ------------------------------------------------------------------------------ end to end
def _tree(path: Path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*")} if path.exists() else set()


def _gx_litter_in(root: Path, since: float) -> list[str]:
    """New GX-looking files or folders under `root` (Data Docs' default site lives in /tmp)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        depth = Path(dirpath).relative_to(root).parts
        if len(depth) > 3 or any(part.startswith("pytest-of-") for part in depth):
            dirnames[:] = []
            continue
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            try:
                new = p.stat().st_mtime >= since
            except OSError:
                continue
            if new and (name in ("index.html", "great_expectations.yml", "uncommitted", "data_docs")
                        or "great_expectations" in name or name.startswith("gx_")):
                found.append(str(p))
    return found


def test_validate_end_to_end_with_an_anomaly_docs_and_a_clean_footprint(tmp_path):
    """anomalies CLI -> validate CLI with --previous, --out and --gx-docs inside the output folder.
    The cwd, TMPDIR and HOME of the process stay empty; /tmp gets no GX files; no network."""
    import time

    from csc_returns.sample_data.generate import generate

    data = tmp_path / "data"
    generate(children=300, year=2026, seed=5).write(data)
    bad = tmp_path / "bad903"
    a = subprocess.run([sys.executable, "-m", "csc_returns.sample_data.anomalies", data / "ssda903", bad,
                        "--anomaly", "unknown_burst"], capture_output=True, text=True)
    assert a.returncode == 0, a.stderr
    assert (bad / "header.csv").exists()

    cwd, tmpdir, home, out = (tmp_path / n for n in ("cwd", "tmpdir", "home", "out"))
    for d in (cwd, tmpdir, home):
        d.mkdir()
    env = {**os.environ, "TMPDIR": str(tmpdir), "HOME": str(home)}
    env.pop("GX_ANALYTICS_ENABLED", None)
    guard = ("import atexit, socket, sys\n"
             "tried = []\n"
             "def refuse(*a, **k):\n"
             "    tried.append(a); raise OSError('network disabled')\n"
             "socket.socket.connect = refuse; socket.create_connection = refuse\n"
             "atexit.register(lambda: sys.stderr.write(f'NETWORK-ATTEMPTS={len(tried)}\\n'))\n"
             "from csc_returns.returns.cli import main\n"
             "sys.argv = ['csc-returns'] + sys.argv[1:]\n"
             "main()\n")
    args = ["validate", str(bad), "--previous", str(data / "ssda903_previous"), "--out", str(out),
            "--gx-docs", str(out / "gx-docs"), "--format", "json"]
    t0 = time.time() - 1
    tmp_before = set(os.listdir("/tmp"))
    p = subprocess.run([sys.executable, "-c", guard, *args], capture_output=True, text=True, cwd=cwd, env=env)
    assert "Traceback" not in p.stderr, p.stderr
    assert "NETWORK-ATTEMPTS=0" in p.stderr, p.stderr
    data_json = json.loads(p.stdout)
    assert p.returncode == data_json["summary"]["exit_code"]
    assert not [c for c, o in data_json["outcomes"].items() if c.startswith("DQ-") and o == "errored"], \
        data_json["outcome_reasons"]
    dq = [f for f in data_json["findings"] if f["code"].startswith("DQ-")]
    assert [f["code"] for f in dq] == ["DQ-UNKNOWN-SHARE"] and dq[0]["severity"] == "warning"
    assert dq[0]["message"].startswith("Too many")
    assert data_json["outcomes"]["DQ-UNKNOWN-SHARE"] == "failed"
    assert "ETHNIC" in data_json["outcome_reasons"]["DQ-UNKNOWN-SHARE"]

    # only the outputs, in the output folder; nothing in the cwd, TMPDIR, HOME or /tmp
    assert not any(cwd.iterdir()) and not any(tmpdir.iterdir()) and not any(home.iterdir())
    top = {x.name for x in out.iterdir()}
    assert top == {"report.html", "findings.json", "findings.csv", "findings.xlsx", "gx-docs"}, top
    assert not _gx_litter_in(Path("/tmp"), t0), _gx_litter_in(Path("/tmp"), t0)
    assert not {n for n in set(os.listdir("/tmp")) - tmp_before if "gx" in n.lower() or "expectation" in n.lower()}

    # Data Docs: the catalogue-rule and data-quality suites, with their validation results
    docs = out / "gx-docs"
    assert (docs / "index.html").exists()
    suites = {p.relative_to(docs / "expectations").with_suffix("").as_posix() for p in (docs / "expectations").rglob("*.html")}
    # GX files a suite named csc_returns.ssda903.2026.Episodes under csc_returns/ssda903/2026/
    assert {"csc_returns/ssda903/2026/Episodes", "csc_returns/ssda903/2026/months",
            "csc_returns/ssda903/2026/Header"} <= suites, suites
    assert any((docs / "validations").rglob("*.html"))
    episodes = (docs / "expectations" / "csc_returns" / "ssda903" / "2026" / "Episodes.html").read_text(encoding="utf-8")
    assert "PLACE" in episodes  # rule 146, compiled from the catalogue

    # the HTML report has its own data-quality section
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="quality"' in html and "DQ-UNKNOWN-SHARE" in html and "What was measured" in html

    # warnings change the exit code only with --fail-on warning; --no-gx skips the suites
    base = ["validate", str(bad), "--format", "json"]
    w = subprocess.run([sys.executable, "-m", "csc_returns.returns.cli", *base, "--fail-on", "warning"],
                       capture_output=True, text=True, cwd=cwd, env=env)
    assert w.returncode in (1, 2) and json.loads(w.stdout)["summary"]["warnings"] >= 1
    if not [c for c, o in json.loads(w.stdout)["outcomes"].items() if o == "errored"]:
        assert w.returncode == 1
    n = subprocess.run([sys.executable, "-m", "csc_returns.returns.cli", *base, "--no-gx", "--fail-on", "warning"],
                       capture_output=True, text=True, cwd=cwd, env=env)
    nd = json.loads(n.stdout)
    assert not [c for c in nd["outcomes"] if c.startswith("DQ-")]
    assert not [f for f in nd["findings"] if f["code"].startswith("DQ-")]
    if "errored" not in nd["outcomes"].values():
        assert n.returncode == (1 if nd["summary"]["errors"] or nd["summary"]["queries"] or nd["summary"]["warnings"] else 0)
    assert not any(cwd.iterdir()) and not any(tmpdir.iterdir()) and not any(home.iterdir())


def test_report_shows_the_checks_even_when_nothing_is_found(generated):
    from csc_returns.reports.html import build_context, render_report
    from csc_returns.returns.result import RunResult, make_findings

    cur, prev = generated["ssda903"]
    q = _quality(cur, prev)
    result = RunResult(return_="ssda903", year=2026, spec=resolve("ssda903", 2026), inputs=[],
                       findings=make_findings([]), outcomes=q.outcomes)
    ctx = build_context(result)
    assert [c["code"] for c in ctx["dq_checks"]] == sorted(DQ_CODES)
    assert ctx["status_counts"]["passed"] == 0 and ctx["n_rules"] == 0  # DQ checks are not rules
    html = render_report(result)
    assert "No data-quality check found anything" in html
