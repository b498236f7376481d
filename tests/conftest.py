"""Shared fixtures, and a plain summary line when the browser tests could not run."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample_data" / "data"


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def sample() -> Path:
    return SAMPLE


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", help="rewrite golden files from current output")


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001
    skipped = terminalreporter.stats.get("skipped", [])
    browser = [r for r in skipped if "browser" in getattr(r, "keywords", {})]
    if browser:
        terminalreporter.write_line(
            f"NOTE: {len(browser)} browser test(s) of the HTML report were SKIPPED: no headless Chromium "
            "(install the Debian 'chromium' package; .ci/run does).", yellow=True, bold=True)
