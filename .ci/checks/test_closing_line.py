"""CI's closing lines: the last test-runner line .ci/run prints is the real count."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from fuzz import without_banners

from tests.support.servers import PROJECT_DIR

PYTEST_CLOSING = re.compile(r"^=+ .*\bin [0-9.]+s\b.* =+$")


def test_schemathesis_banners_become_plain_lines():
    output = (
        "== SUMMARY ==\n"
        "Test cases:\n  6566 generated, 6566 passed, 78 skipped\n"
        "============================= 3 warnings in 73.65s =============================\n"
    )
    cleaned = without_banners(output)
    assert not [line for line in cleaned.splitlines() if PYTEST_CLOSING.match(line)]
    assert "-- schemathesis: 3 warnings in 73.65s" in cleaned


def test_summary_ends_with_the_totals_in_pytest_shape_then_plain(tmp_path: Path):
    reports = []
    for name, (tests, failures, skipped, seconds) in {
        "a": (12, 0, 2, 3.5),
        "b": (30, 0, 1, 10.25),
    }.items():
        report = tmp_path / f"{name}.xml"
        report.write_text(
            '<?xml version="1.0"?><testsuites><testsuite name="pytest" errors="0" '
            f'failures="{failures}" skipped="{skipped}" tests="{tests}" time="{seconds}">'
            "</testsuite></testsuites>"
        )
        reports.append(f"{name}={report}")
    result = subprocess.run(
        [sys.executable, str(PROJECT_DIR / ".ci/checks/summary.py"), *reports],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout
    *_, banner, plain = result.stdout.splitlines()
    assert PYTEST_CLOSING.match(banner)
    assert " 39 passed, 3 skipped in 13.75s " in banner
    assert plain == "ci: 39 passed, 0 failed, 3 skipped"


def test_summary_fails_on_a_report_that_ran_nothing(tmp_path: Path):
    report = tmp_path / "empty.xml"
    report.write_text('<testsuites><testsuite tests="0" time="0.1"></testsuite></testsuites>')
    result = subprocess.run(
        [sys.executable, str(PROJECT_DIR / ".ci/checks/summary.py"), f"empty={report}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "FAIL: empty: no test ran" in result.stdout
