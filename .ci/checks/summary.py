"""Count the tests every pytest run of .ci/run executed, from their JUnit XML reports.

Usage: summary.py LABEL=report.xml ...   (the last line it prints is CI's closing line)

Fails when a report is missing, counted no test (pytest's exit status 5 is already fatal
in .ci/run; this also catches a run that selected nothing), or holds failures or errors.
The last two lines are the totals in pytest's own closing-line shape
(`=== N passed, N skipped in Ns ===`) and as a plain `ci: N passed, N failed, N skipped`,
printed after every other tool's output (fuzz.py turns Schemathesis's pytest-shaped banner
into a plain line), so the last test-runner line CI reads is the real count.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def count(report: Path) -> dict[str, int]:
    root = ET.parse(report).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    seconds = 0.0
    for suite in suites:
        for key in totals:
            totals[key] += int(suite.get(key, 0))
        seconds += float(suite.get("time", 0))
    return {**totals, "seconds": seconds}


def main(args: list[str]) -> int:
    problems, parts = [], []
    passed = failed = skipped = 0
    seconds = 0.0
    for arg in args:
        label, _, path = arg.partition("=")
        if not Path(path).is_file():
            problems.append(f"{label}: no report at {path}")
            continue
        c = count(Path(path))
        run_failed = c["failures"] + c["errors"]
        run_passed = c["tests"] - run_failed - c["skipped"]
        passed, failed, skipped = passed + run_passed, failed + run_failed, skipped + c["skipped"]
        seconds += c["seconds"]
        parts.append(f"{label} {run_passed} passed, {run_failed} failed, {c['skipped']} skipped")
        if c["tests"] == 0:
            problems.append(f"{label}: no test ran")
        if run_failed:
            problems.append(f"{label}: {run_failed} failed")
    print("Tests run: " + "; ".join(parts) + ".")
    for problem in problems:
        print(f"FAIL: {problem}")
    print("CI failed." if problems else "CI passed.")
    counts = [f"{failed} failed"] if failed else []
    counts += [f"{passed} passed"] + ([f"{skipped} skipped"] if skipped else [])
    print(f"{'=' * 20} {', '.join(counts)} in {seconds:.2f}s {'=' * 20}")
    print(f"ci: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
