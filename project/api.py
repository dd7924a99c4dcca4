"""The one NinjaAPI: its routers and the shared JWT auth; ``project.errors`` answers its
failures."""

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.parser import Parser

from budgets.api import (
    budgets_router,
    categories_router,
    recurring_router,
    transactions_router,
)
from budgets.api_limits import limits_router
from budgets.api_transfers import transfers_router
from project import conditional, errors
from project.health import router as health_router
from project.idempotency import openapi as idempotency_openapi
from project.renderer import JSONRenderer
from users.api import token_router, users_router
from users.auth import JWTAuth

API_DESCRIPTION = """
Track budgets, income and expenses. Authenticate with `POST /api/token/` and send
`Authorization: Bearer <access>` on every other call (the **Authorize** button here takes the
access token).

* Money is a JSON **string** with two decimals (`"5000.00"`); inputs accept a string or number
  with at most two decimals.
* Every list is paginated: `page` (from 1), `page_size` (1 to 100, default 20); body
  `{count, next, previous, results}`; a page past the end answers 404 `Invalid page.`.
* Errors: 400 `{"field": ["message"]}` (`non_field_errors` for the rest),
  401/404/405/409/412/413/422/429 `{"detail": "..."}`. Another user's object is a 404,
  exactly like a missing one. When the database cannot be reached in time: 503
  `{"detail": "..."}` with `Retry-After`.
* Optional, for careful clients: `Idempotency-Key` on any POST makes retries safe (the stored
  answer comes back with `Idempotent-Replayed: true`); single objects carry an `ETag`, which
  `If-None-Match` (GET → 304) and `If-Match` (PUT/PATCH/DELETE → 412 when stale) take back.
"""


class ObjectBodyParser(Parser):
    """JSON bodies must be objects; ``[1, 2]`` or ``"x"`` is refused before validation."""

    def parse_body(self, request: HttpRequest):
        data = super().parse_body(request)
        if not isinstance(data, dict):
            raise errors.BodyNotAnObject(errors.NOT_AN_OBJECT)
        return data


class BudgetTrackerAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        # Headers handled by middleware for every route are documented after the fact.
        schema = super().get_openapi_schema(*args, **kwargs)
        return conditional.document(idempotency_openapi.document(schema))


api = BudgetTrackerAPI(
    title="Budget Tracker API",
    version="1.0.0",
    description=API_DESCRIPTION,
    auth=JWTAuth(),
    urls_namespace="api",
    parser=ObjectBodyParser(),
    renderer=JSONRenderer(),
)

api.add_router("/users/", users_router)
api.add_router("/token/", token_router)
api.add_router("/budgets/", budgets_router)
api.add_router("/categories/", categories_router)
api.add_router("/budgets/", limits_router)
api.add_router("/transactions/", transactions_router)
api.add_router("/recurring/", recurring_router)
api.add_router("/transfers/", transfers_router)
api.add_router("/health/", health_router)


# Every failure is answered by project.errors.
errors.install(api)
