"""The benchmark's scenarios: one request shape each, filled in from the seeded data.

Shared by the load run (bench/run.py), the in-process query counter (bench/queries.py)
and the profiler (bench/profile_requests.py). Imports nothing from the application.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

POST_DESCRIPTION = "wrk post"  # same marker as bench/seed.py: rows removed by --cleanup


@dataclass(frozen=True)
class Scenario:
    name: str
    method: str
    path: str  # "{budget_id}" is filled in from the seed's description
    status: int  # what a correct answer is

    def url_path(self, seeded: dict) -> str:
        return self.path.format(**seeded)

    def body(self, seeded: dict) -> str | None:
        if self.method != "POST":
            return None
        return json.dumps(
            {
                "budget": seeded["post_budget_id"],
                "amount": "-12.34",
                "category": seeded["category_id"],
                "description": POST_DESCRIPTION,
                "date": "2026-01-15",
            }
        )


SCENARIOS = [
    Scenario("me", "GET", "/api/users/me/", 200),
    Scenario("budget_list", "GET", "/api/budgets/", 200),
    Scenario("budget_detail", "GET", "/api/budgets/{budget_id}/", 200),
    Scenario("transaction_list", "GET", "/api/transactions/?budget={budget_id}", 200),
    Scenario("transactions_all", "GET", "/api/transactions/", 200),
    Scenario("summary", "GET", "/api/budgets/{budget_id}/summary/", 200),
    # Last: it writes (into another budget than the one the reads use).
    Scenario("create", "POST", "/api/transactions/", 201),
]
BY_NAME = {s.name: s for s in SCENARIOS}


def select(names: str | None) -> list[Scenario]:
    if not names:
        return list(SCENARIOS)
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in BY_NAME]
    if unknown:
        raise SystemExit(f"Unknown scenario(s): {', '.join(unknown)}. Known: {', '.join(BY_NAME)}")
    return [s for s in SCENARIOS if s.name in wanted]  # keep the canonical order
