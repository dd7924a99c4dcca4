"""Flat at scale: the same requests against a small and a large data set, interleaved.

    python bench/scale.py \
        --small sqlite:////tmp/bench_thousand.sqlite3 --large sqlite:////tmp/bench_million.sqlite3

Both databases are seeded once beforehand with ``run.py --seed-only`` (``--size thousand``
and ``--size million``: 1,000 budgets for one user, one of them with 1,000 or 1,000,000
transactions). Each round runs ``run.py --reuse-db`` on the small data set, then on the
large one (with ``--swap``, the other way round every other round), so a slow phase of the
machine hits both alike. The table gives, per scenario, the median p50 and req/s over the
rounds on each data set and the large/small p50 ratio (goal: at most 2).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_SCENARIOS = "budget_detail,budget_list,transaction_list,summary"
GOAL = 2.0


def run_once(size: str, url: str, args: argparse.Namespace, out: Path) -> dict:
    command = [
        sys.executable,
        str(BENCH_DIR / "run.py"),
        "--size",
        size,
        "--database-url",
        url,
        "--reuse-db",
        "--keep-db",
        "--no-reference",
        "--scenarios",
        args.scenarios,
        "--duration",
        str(args.duration),
        "--warmup",
        str(args.warmup),
        "--workers",
        str(args.workers),
        "--json",
        str(out),
    ]
    print(f"-- {size}: {' '.join(command[1:])}", flush=True)
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    if finished.returncode != 0:
        sys.stderr.write(finished.stdout[-4000:] + finished.stderr[-4000:])
        raise SystemExit(f"run.py failed for {size} (exit {finished.returncode})")
    return json.loads(out.read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", required=True, help="Database URL seeded with --size thousand")
    parser.add_argument("--large", required=True, help="Database URL seeded with --size million")
    parser.add_argument("--small-size", default="thousand")
    parser.add_argument("--large-size", default="million")
    parser.add_argument("--scenarios", default=DEFAULT_SCENARIOS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--swap", action="store_true", help="Alternate which size goes first.")
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    args = parser.parse_args()

    sizes = {"small": (args.small_size, args.small), "large": (args.large_size, args.large)}
    figures: dict[str, dict[str, dict[str, list[float]]]] = {}
    database = None
    with tempfile.TemporaryDirectory(prefix="budget-scale.") as work:
        for round_ in range(args.rounds):
            order = ["small", "large"]
            if args.swap and round_ % 2:
                order.reverse()
            for which in order:
                size, url = sizes[which]
                result = run_once(size, url, args, Path(work) / f"{which}-{round_}.json")
                database = result["database"]
                for scenario, targets in result["results"].items():
                    app = targets["app"]
                    cell = figures.setdefault(scenario, {}).setdefault(
                        which, {"p50": [], "rps": [], "queries": []}
                    )
                    cell["p50"].append(app["p50_ms"])
                    cell["rps"].append(app["rps"])
                    cell["queries"].append(app["queries"])

    print(
        f"\n{database}: {args.small_size} vs {args.large_size}, {args.rounds} round(s) of "
        f"{args.duration:g} s, {args.workers} workers; medians over the rounds"
    )
    header = (
        f"{'scenario':<18}{'small p50 ms':>13}{'large p50 ms':>13}{'small req/s':>12}"
        f"{'large req/s':>12}{'queries':>9}{'p50 large/small':>17}"
    )
    print(header)
    print("-" * len(header))
    summary, met = {}, True
    for scenario, cells in figures.items():
        small, large = cells["small"], cells["large"]
        ratio = statistics.median(large["p50"]) / statistics.median(small["p50"])
        met = met and ratio <= GOAL
        summary[scenario] = {
            "small_p50_ms": statistics.median(small["p50"]),
            "large_p50_ms": statistics.median(large["p50"]),
            "small_rps": statistics.median(small["rps"]),
            "large_rps": statistics.median(large["rps"]),
            "queries": [small["queries"][0], large["queries"][0]],
            "ratio": ratio,
        }
        row = summary[scenario]
        print(
            f"{scenario:<18}{row['small_p50_ms']:>13.2f}{row['large_p50_ms']:>13.2f}"
            f"{row['small_rps']:>12.1f}{row['large_rps']:>12.1f}"
            f"{'{}/{}'.format(*row['queries']):>9}{ratio:>17.2f}"
        )
    print(f"goal (every ratio <= {GOAL:g}): {'met' if met else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
