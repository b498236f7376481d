"""The HTML report in a real headless Chromium, driven by Playwright, with the network blocked.

Needs the Debian `chromium` package (/usr/bin/chromium) and the `playwright` Python package (its
own browser download is never used). Without them every test here SKIPs with the reason.
Screenshots of the main views go to tests/artifacts/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from csc_returns.reports.html import write_report
from csc_returns.reports.xlsx import write_xlsx

from test_report import FORMULA, IMG, SCRIPT, big_result, previous_json, problems_result

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = os.environ.get("CSC_RETURNS_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
NO_BROWSER = "no headless Chromium: install the Debian chromium package"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(f"{NO_BROWSER} (and the playwright Python package)")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.skip(NO_BROWSER)
    with sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        except Exception as exc:  # a broken install is a skip with the reason, not an error
            pytest.skip(f"{NO_BROWSER} ({type(exc).__name__}: {str(exc).splitlines()[0]})")
        yield b
        b.close()


class Opened:
    """A report page with its console errors, JS exceptions, dialogs and blocked requests."""

    def __init__(self, browser: Any, path: Path, **context: Any) -> None:
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.context = browser.new_context(**{"viewport": {"width": 1300, "height": 1000}, **context})
        self.page = page = self.context.new_page()
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

        def route(r: Any) -> None:
            url = r.request.url
            if url.startswith("file:"):
                r.continue_()
            else:  # http, https, ws, data fetches: nothing may leave the machine
                self.requests.append(url)
                r.abort()

        page.route("**/*", route)
        t0 = time.perf_counter()
        page.goto(path.resolve().as_uri())
        page.wait_for_selector("html[data-ready]", timeout=30_000)
        self.load_seconds = time.perf_counter() - t0

    def check_clean(self) -> None:
        assert self.errors == [], self.errors
        assert self.requests == [], self.requests
        assert self.dialogs == [], self.dialogs

    def status(self) -> str:
        return self.page.inner_text("#x-status")

    def wait_status(self, contains: str) -> str:
        self.page.wait_for_function(
            "s => document.getElementById('x-status').textContent.includes(s)", arg=contains, timeout=5000)
        return self.status()

    def search(self, text: str) -> str:
        """Type into the child ID box and press Enter (typing alone updates after a short pause)."""
        self.page.fill("#f-q", text)
        self.page.press("#f-q", "Enter")
        return self.status()

    def shot(self, name: str, selector: str | None = None, full: bool = False) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        if selector:
            self.page.locator(selector).screenshot(path=str(ARTIFACTS / name))
        else:
            self.page.screenshot(path=str(ARTIFACTS / name), full_page=full)

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def problems_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    r = problems_result()
    write_xlsx(r, folder / "findings.xlsx")
    return write_report(r, folder / "report.html")


def test_report_opens_offline_without_errors(browser: Any, problems_report: Path) -> None:
    o = Opened(browser, problems_report)
    page = o.page
    assert "Check incomplete" in page.inner_text("#headline")  # TEST-ERR errored
    assert page.locator(".cards .card").count() == 4
    assert "LOAD-DATE" in page.inner_text("#load")
    assert "TEST-ERR" in page.inner_text("#errored")
    assert "TEST-SKIP" in page.inner_text("#skipped")
    o.shot("report-top.png")
    o.shot("report-summary.png", "#summary")
    o.shot("report-load.png", "#load")
    o.shot("report-by-table.png", "#by-table")
    o.shot("report-charts.png", "#charts")
    o.shot("report-full.png", full=True)
    o.check_clean()
    o.close()


def test_search_and_filters(browser: Any, problems_report: Path) -> None:
    o = Opened(browser, problems_report)
    page = o.page
    data = json.loads(page.inner_text("#report-data"))
    total = len(data["f"])
    assert o.status().startswith(f"Showing {total} findings")

    # search by child ID (part of it)
    page.fill("#f-q", "RPT0006")  # typing alone filters, after a short pause
    text = o.wait_status("for 1 child")
    heads = page.locator("#explorer tr.child-head").all_inner_texts()
    assert len(heads) == 1 and "RPT0006" in heads[0]
    expected = sum(1 for r in data["f"] if r[4] == "RPT0006")
    assert page.locator("#explorer tbody.child tr:not(.child-head)").count() == expected
    assert f"Showing {expected} finding" in text
    o.shot("report-by-child-search.png", "#by-child")

    # a hostile child ID is shown as text, never as markup
    assert "for 1 child" in o.search("onerror")
    assert IMG in page.inner_text("#explorer tr.child-head")
    assert page.locator("#explorer img").count() == 0
    assert "for 1 child" in o.search("</script>")
    assert SCRIPT in page.inner_text("#explorer tr.child-head")
    assert "for 1 child" in o.search(FORMULA)
    assert FORMULA in page.inner_text("#explorer tr.child-head")

    # severity, rule and table filters
    page.click("#f-clear")
    o.wait_status(f"Showing {total} findings")
    assert page.evaluate("document.activeElement.id") == "f-q"  # focus goes back to the search box
    page.select_option("#f-sev", label=next(t for t in page.locator("#f-sev option").all_inner_texts() if t.startswith("Query")))
    n_q = sum(1 for r in data["f"] if r[1] == 1)
    o.wait_status(f"Showing {n_q} finding")
    sev = set(page.locator("#explorer tbody.child .sev").all_inner_texts())
    assert {s.strip() for s in sev} == {"\u25b2 Query"}
    page.select_option("#f-sev", "")
    page.select_option("#f-rule", "8869")
    n_r = sum(1 for r in data["f"] if data["codes"][r[0]] == "8869")
    o.wait_status(f"Showing {n_r} finding")
    assert set(page.locator("#explorer tbody.child td:first-child a").all_inner_texts()) == {"8869"}
    page.select_option("#f-rule", "")
    page.select_option("#f-table", label="Child")
    t_ix = data["tables"].index("Child")
    n_t = sum(1 for r in data["f"] if r[2] == t_ix)
    o.wait_status(f"Showing {n_t} finding")
    o.shot("report-by-child-table-filter.png", "#by-child")
    page.select_option("#f-table", "")
    o.wait_status(f"Showing {total} findings")
    assert "No findings match" in o.search("no such child")
    o.check_clean()
    o.close()


def test_by_rule_records_and_keyboard(browser: Any, problems_report: Path) -> None:
    o = Opened(browser, problems_report)
    page = o.page
    button = page.locator("#rule-8869 button.show-records")
    button.focus()
    page.keyboard.press("Enter")  # a real button: works from the keyboard
    assert button.get_attribute("aria-expanded") == "true"
    records = page.locator("#rule-8869-records")
    assert records.is_visible()
    assert records.locator("tbody tr").count() == int(page.inner_text("#rule-8869 td.num >> nth=0"))
    o.shot("report-by-rule-records.png", "#rule-8869")
    page.keyboard.press("Enter")
    assert button.get_attribute("aria-expanded") == "false" and not records.is_visible()

    # "By child" from a rule filters the explorer to that rule
    page.click("#rule-8869 button.to-explorer")
    assert page.input_value("#f-rule") == "8869"
    assert page.evaluate("document.activeElement.id") == "h-by-child"
    # a finding's code links to its rule's explanation
    page.click("#explorer tbody.child td:first-child a >> nth=0")
    assert page.evaluate("location.hash") == "#rule-8869"

    # the search box and filters are reachable with Tab
    page.focus("#f-q")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "f-sev"
    o.check_clean()
    o.close()


def test_zoom_200_and_print(browser: Any, problems_report: Path) -> None:
    # 200 % zoom of a 1280 px window is a 640 CSS px viewport at device scale 2
    o = Opened(browser, problems_report, viewport={"width": 640, "height": 900}, device_scale_factor=2)
    page = o.page
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px at 200% zoom (wide tables must scroll inside their own box)"
    o.shot("report-zoom200.png")
    page.emulate_media(media="print")
    assert not page.locator("#filters").is_visible() and not page.locator(".toc").is_visible()
    assert page.locator("#headline").is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.pdf(path=str(ARTIFACTS / "report-print.pdf"), format="A4")
    o.check_clean()
    o.close()


def test_compare_view(browser: Any, tmp_path: Path) -> None:
    r = problems_result()
    prev, want = previous_json(r)
    (tmp_path / "prev.json").write_text(json.dumps(prev), encoding="utf-8")
    path = write_report(r, tmp_path / "report.html", compare=tmp_path / "prev.json")
    o = Opened(browser, path)
    page = o.page
    assert f"{want['fixed']} fixed" in page.inner_text("#summary")
    page.select_option("#f-change", "1")
    o.wait_status(f"Showing {want['new']} finding")
    assert set(page.locator("#explorer .chg").all_inner_texts()) == {"new"}
    o.shot("report-changes.png", "#changes")
    o.check_clean()
    o.close()


def test_large_report_renders_and_pages(browser: Any, tmp_path: Path) -> None:
    r = big_result()
    t0 = time.perf_counter()
    path = write_report(r, tmp_path / "report.html")
    write_seconds = time.perf_counter() - t0
    o = Opened(browser, path)
    page = o.page
    n = len(r.findings)
    ready_at = float(page.get_attribute("html", "data-ready-at"))
    script_ms = float(page.get_attribute("html", "data-render-ms"))
    rows = page.locator("#explorer tbody.child tr:not(.child-head)").count()
    assert rows == 100  # one page, not the whole table
    assert o.status().startswith(f"Showing findings 1\u2013100 of {n:,}")
    page.click("#x-pager button[data-act=next]")
    o.wait_status("Showing findings 101\u2013200")
    page.click("#x-pager button[data-act=last]")
    assert page.locator("#x-pager button[data-act=next]").is_disabled()
    t1 = time.perf_counter()
    child = r.findings["child"].dropna().iloc[-1]
    page.fill("#f-q", child)
    page.wait_for_function("() => document.querySelectorAll('#explorer tr.child-head').length >= 1 && "
                           "document.getElementById('x-status').textContent.includes('for 1 child')", timeout=5000)
    search_seconds = time.perf_counter() - t1  # includes the 200 ms typing debounce
    o.shot("report-large.png")
    ARTIFACTS.mkdir(exist_ok=True)
    size = path.stat().st_size
    (ARTIFACTS / "report-large.txt").write_text(
        f"findings {n}, children {r.children}\nfile size {size / 1e6:.2f} MB, written in {write_seconds:.2f} s\n"
        f"navigation to first render {ready_at:.0f} ms (script {script_ms:.0f} ms); "
        f"page load seen from the test {o.load_seconds:.2f} s\nsearch for one child {search_seconds * 1000:.0f} ms\n",
        encoding="utf-8")
    print(f"\nlarge report: {size / 1e6:.2f} MB, first render {ready_at:.0f} ms, search {search_seconds * 1000:.0f} ms")
    assert size < 10_000_000
    o.check_clean()
    o.close()
