"""The floor: a minimal WSGI app answering the benchmark's scenarios with the same SQL.

No framework: PyJWT validates the same access tokens the API issues (same ``SECRET_KEY``,
HS256, ``token_type == "access"``, a ``jti``, not expired), the database driver runs the
same statements the API's ORM sends (one persistent connection per worker, as the API
keeps on PostgreSQL), and ``json`` writes the same bytes the API answers (key order, money
as two-decimal strings, timestamps as Django's encoder writes them, absolute
``next``/``previous`` links; compact UTF-8, as the API's orjson renderer writes it).
Whatever the API costs above this is framework cost.

Scenarios served, and nothing else (everything else is a 404):

    GET  /api/users/me/
    GET  /api/budgets/                      (page, page_size)
    GET  /api/budgets/{id}/
    GET  /api/budgets/{id}/summary/
    GET  /api/transactions/                 (budget, page, page_size)
    POST /api/transactions/

Run it like the API: ``DATABASE_URL=... SECRET_KEY=... gunicorn --pythonpath bench
reference_app:application``. ``QUERIES`` counts the statements sent (for the harness).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import os
import re
import sqlite3
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import jwt

SECRET_KEY = os.environ.get("SECRET_KEY", "")
ALGORITHM = "HS256"
DATABASE_URL = os.environ.get("DATABASE_URL", "")
CENT = decimal.Decimal("0.01")
JSON_HEADERS = [("Content-Type", "application/json; charset=utf-8")]
QUERIES = [0]  # statements sent by this process

_SQLITE_DECIMAL = decimal.Context(prec=15).create_decimal_from_float


class Database:
    """One lazily opened connection per process, autocommit like Django's."""

    def __init__(self, url: str):
        self.url = url
        self.sqlite = url.startswith("sqlite:")
        self.conn = None
        # The cents expression as Django writes it for each database.
        if self.sqlite:
            self.cents = (
                "CAST((CAST(ROUND((CAST(({col} * 100) AS NUMERIC)), 0) AS NUMERIC)) AS bigint)"
            )
            self.month = "django_date_trunc('month', {col}, NULL, NULL)"
            self.lock = ""
        else:
            self.cents = "(ROUND(({col} * 100), 0))::bigint"
            self.month = "DATE_TRUNC('month', {col})"
            self.lock = " FOR NO KEY UPDATE"

    def connect(self):
        if self.sqlite:
            path = unquote(urlsplit(self.url).path)
            path = path[1:] if path.startswith("//") else path
            conn = sqlite3.connect(path, isolation_level=None, timeout=20, check_same_thread=False)
            conn.executescript(
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"
            )
            # The month bucket of the summary, as Django registers it on SQLite.
            conn.create_function(
                "django_date_trunc", 4, lambda _kind, value, _tz, _ctz: value[:7] + "-01"
            )
        else:
            import psycopg

            conn = psycopg.connect(self.url, autocommit=True)
            conn.execute("SET TIME ZONE 'UTC'")
        return conn

    def execute(self, sql: str, params=()):
        if self.conn is None:
            self.conn = self.connect()
        QUERIES[0] += 1
        if self.sqlite:
            return self.conn.execute(sql.replace("%s", "?"), params)
        return self.conn.execute(sql, params)

    def all(self, sql: str, params=()) -> list[tuple]:
        return self.execute(sql, params).fetchall()

    def one(self, sql: str, params=()):
        return self.execute(sql, params).fetchone()


db = Database(DATABASE_URL)


# --- Values as the API writes them ---------------------------------------------------


def money(value) -> str:
    """A stored decimal (Decimal on PostgreSQL, float/int on SQLite) as "12.50"."""
    if not isinstance(value, decimal.Decimal):
        value = _SQLITE_DECIMAL(value)
    return str(value.quantize(CENT))


def cents(value: int) -> decimal.Decimal:
    return decimal.Decimal(value).scaleb(-2)


def timestamp(value) -> str:
    """Django's JSON encoder: ISO 8601, milliseconds, UTC as Z."""
    if isinstance(value, str):  # SQLite keeps naive UTC text
        value = dt.datetime.fromisoformat(value)
    elif value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    text = value.isoformat()
    return (text[:23] if value.microsecond else text) + "Z"


def day(value) -> str:
    return value if isinstance(value, str) else value.isoformat()


# --- HTTP helpers -------------------------------------------------------------------


class HttpError(Exception):
    def __init__(self, status: str, body: dict, headers=()):
        self.status, self.body, self.headers = status, body, list(headers)


NOT_FOUND = HttpError("404 Not Found", {"detail": "Not found."})


def unauthorized(message: str) -> HttpError:
    return HttpError("401 Unauthorized", {"detail": message}, [("WWW-Authenticate", "Bearer")])


def bad_request(field: str, message: str) -> HttpError:
    return HttpError("400 Bad Request", {field: [message]})


def query_int(query: dict, name: str, default: int, *, low: int = 1, high: int | None = None):
    raw = query.get(name, [str(default)])[-1]
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(name, "Input should be a valid integer.") from None
    if value < low or (high is not None and value > high):
        raise bad_request(name, "Out of range.")
    return value


def paginate(environ, query: dict, count_sql: str, page_sql: str, params: list, row_out):
    page = query_int(query, "page", 1)
    size = query_int(query, "page_size", 20, high=100)
    counted = db.one(count_sql, params)  # grouped by the user: no row when there is none
    count = int(counted[0]) if counted else 0  # SUM() of counts is numeric on PostgreSQL
    offset = (page - 1) * size
    if offset >= count and page != 1:
        raise HttpError("404 Not Found", {"detail": "Invalid page."})
    rows = db.all(f"{page_sql} LIMIT %s OFFSET %s", [*params, size, offset])
    return {
        "count": count,
        "next": page_url(environ, query, page + 1) if offset + size < count else None,
        "previous": page_url(environ, query, page - 1) if page > 1 else None,
        "results": [row_out(row) for row in rows],
    }


def page_url(environ, query: dict, page: int) -> str:
    items = dict(query)
    if page == 1:
        items.pop("page", None)
    else:
        items["page"] = [str(page)]
    encoded = urlencode([(k, v) for k, values in items.items() for v in values])
    host = environ.get("HTTP_HOST") or environ["SERVER_NAME"]
    path = environ.get("PATH_INFO", "")
    return f"http://{host}{path}" + (f"?{encoded}" if encoded else "")


# --- Authentication ------------------------------------------------------------------

USER_SQL = (
    'SELECT "users_user"."id", "users_user"."password", "users_user"."last_login", '
    '"users_user"."is_superuser", "users_user"."username", "users_user"."first_name", '
    '"users_user"."last_name", "users_user"."email", "users_user"."is_staff", '
    '"users_user"."is_active", "users_user"."date_joined", "users_user"."username_key", '
    '"users_user"."email_key", "users_user"."recurring_next_due", '
    '"users_user"."session_generation" FROM "users_user" '
    'WHERE ("users_user"."is_active" AND "users_user"."id" = %s) '
    'ORDER BY "users_user"."id" ASC LIMIT 1'
)


def authenticate(environ) -> tuple:
    header = environ.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise unauthorized("Authentication credentials were not provided.")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("Given token not valid for any token type")
    try:
        claims = jwt.decode(token.strip(), SECRET_KEY, algorithms=[ALGORITHM])
    except jwt.InvalidTokenError:
        raise unauthorized("Given token not valid for any token type") from None
    user_id = claims.get("user_id")
    if claims.get("token_type") != "access" or "jti" not in claims or type(user_id) is not int:
        raise unauthorized("Given token not valid for any token type")
    user = db.one(USER_SQL, (user_id,))
    # The session generation (users/tokens.py): a token from before a logout-all is over.
    if user is None or claims.get("sgen", 0) != user[14]:
        raise unauthorized("Given token not valid for any token type")
    return user


# --- Scenarios ----------------------------------------------------------------------


def me(environ, user, query):
    return {
        "id": user[0],
        "username": user[4],
        "email": user[7],
        "first_name": user[5],
        "last_name": user[6],
    }


BUDGET_COLUMNS = (
    'SELECT "budgets_budget"."id", "budgets_budget"."created_at", '
    '"budgets_budget"."updated_at", "budgets_budget"."user_id", "budgets_budget"."title", '
    '"budgets_budget"."description", "budgets_budget"."date", '
    '"budgets_budget"."initial_amount", "budgets_budget"."transactions_cents", '
    '"budgets_budget"."transactions_count" FROM "budgets_budget" '
)
BUDGET_ORDER = (
    ' ORDER BY "budgets_budget"."date" DESC, "budgets_budget"."created_at" DESC, '
    '"budgets_budget"."id" DESC'
)


# A page of the list, as Django's .values() of every column writes it: each column aliased
# by its own name, the ORDER BY by position.
BUDGET_PAGE = (
    "SELECT "
    + ", ".join(
        f'"budgets_budget"."{column}" AS "{column}"'
        for column in (
            "id",
            "created_at",
            "updated_at",
            "user_id",
            "title",
            "description",
            "date",
            "initial_amount",
            "transactions_cents",
            "transactions_count",
        )
    )
    + ' FROM "budgets_budget" WHERE "budgets_budget"."user_id" = %s ORDER BY 7 DESC, 2 DESC, 1 DESC'
)


def budget_columns() -> str:
    return BUDGET_COLUMNS


def budget_out(row) -> dict:
    initial = row[7] if isinstance(row[7], decimal.Decimal) else _SQLITE_DECIMAL(row[7])
    return {
        "id": row[0],
        "user": row[3],
        "title": row[4],
        "description": row[5],
        "date": day(row[6]),
        "initial_amount": money(initial),
        "balance": money(initial.quantize(CENT) + cents(row[8])),
        "created_at": timestamp(row[1]),
        "updated_at": timestamp(row[2]),
    }


def budget_list(environ, user, query):
    return paginate(
        environ,
        query,
        'SELECT COUNT(*) AS "rows" FROM "budgets_budget" WHERE "budgets_budget"."user_id" = %s '
        'GROUP BY "budgets_budget"."user_id"',
        BUDGET_PAGE,
        [user[0]],
        budget_out,
    )


def _budget_row(user, budget_id: int):
    row = db.one(
        budget_columns()
        + 'WHERE ("budgets_budget"."user_id" = %s AND "budgets_budget"."id" = %s)'
        + BUDGET_ORDER
        + " LIMIT 1",
        (user[0], budget_id),
    )
    if row is None:
        raise NOT_FOUND
    return row


def budget_get(environ, user, query, budget_id: int):
    return budget_out(_budget_row(user, budget_id))


def _figures(income: int, spent: int, count: int) -> dict:
    return {
        "income": money(cents(income)),
        "expense": money(cents(-spent)),
        "net": money(cents(income + spent)),
        "count": count,
    }


def _month_key(value) -> str:
    return (value if isinstance(value, str) else value.isoformat())[:7]


def _add(into: dict, key, cell) -> None:
    sums = into.setdefault(key, [0, 0, 0])
    for i, value in enumerate(cell):
        sums[i] += value


def _limit_figures(budget_id: int) -> list[dict]:
    """The spending limits, then their months' stored spending (only when there are
    limits): as the API asks."""
    limits = db.all(
        'SELECT "budgets_spendinglimit"."category_id" AS "category_id", '
        '"budgets_category"."name" AS "category__name", "budgets_spendinglimit"."month" AS '
        '"month", "budgets_spendinglimit"."amount" AS "amount" FROM "budgets_spendinglimit" '
        'INNER JOIN "budgets_category" ON ("budgets_spendinglimit"."category_id" = '
        '"budgets_category"."id") WHERE "budgets_spendinglimit"."budget_id" = %s '
        'ORDER BY 3 ASC, "budgets_category"."name_key" ASC, 1 ASC',
        (budget_id,),
    )
    if not limits:
        return []
    ids = sorted({row[0] for row in limits})
    spending = db.all(
        'SELECT "budgets_monthtotal"."category_key", "budgets_monthtotal"."month", '
        '"budgets_monthtotal"."expense_cents" FROM "budgets_monthtotal" WHERE '
        '("budgets_monthtotal"."budget_id" = %s AND "budgets_monthtotal"."category_key" IN ('
        + ", ".join(["%s"] * len(ids))
        + ') AND "budgets_monthtotal"."month" BETWEEN %s AND %s AND '
        'NOT "budgets_monthtotal"."transfer")',
        (budget_id, *ids, limits[0][2], limits[-1][2]),
    )
    spent = {(cat, _month_key(m)): cents(-total) for cat, m, total in spending}
    figures = []
    for cat, name, m, amount in limits:
        limit = amount if isinstance(amount, decimal.Decimal) else _SQLITE_DECIMAL(amount)
        money_spent = spent.get((cat, _month_key(m)), cents(0))
        figures.append(
            {
                "category": cat,
                "name": name,
                "month": _month_key(m),
                "limit": money(limit),
                "spent": money(money_spent),
                "remaining": money(limit - money_spent),
            }
        )
    return figures


def budget_summary(environ, user, query, budget_id: int):
    budget = _budget_row(user, budget_id)
    rows = db.all(
        'SELECT "budgets_monthtotal"."category_key" AS "category_key", '
        '"budgets_monthtotal"."month" AS "month", "budgets_monthtotal"."transfer" AS '
        '"transfer", "budgets_monthtotal"."income_cents" AS "income_cents", '
        '"budgets_monthtotal"."expense_cents" AS "expense_cents", "budgets_monthtotal"."count" '
        'AS "count", (SELECT U0."name" AS "name" FROM "budgets_category" U0 WHERE U0."id" = '
        '("budgets_monthtotal"."category_key") ORDER BY U0."name_key" ASC, U0."id" ASC) AS '
        '"name", (SELECT U0."name_key" AS "name_key" FROM "budgets_category" U0 WHERE U0."id" '
        '= ("budgets_monthtotal"."category_key") ORDER BY 1 ASC, U0."id" ASC) AS "name_key" '
        'FROM "budgets_monthtotal" WHERE "budgets_monthtotal"."budget_id" = %s',
        (budget[0],),
    )
    by_category: dict = {}
    by_month: dict = {}
    moved = [0, 0, 0]
    names: dict = {}
    for key, month, leg, income, spent, count, name, name_key in rows:
        cell = (income, spent, count)
        if leg:
            for i, value in enumerate(cell):
                moved[i] += value
        else:
            _add(by_category, key, cell)
            _add(by_month, _month_key(month), cell)
        if name is not None:
            names[key] = (name, name_key)
    months = [{"month": m, **_figures(*by_month[m])} for m in sorted(by_month)]
    initial = budget_out(budget)
    order = sorted(by_category, key=lambda pk: (pk not in names, names.get(pk, ("", ""))[1], pk))
    return {
        "budget": budget[0],
        "initial_amount": initial["initial_amount"],
        "income_total": money(sum(cents(by_month[m][0]) for m in by_month)),
        "expense_total": money(sum(cents(-by_month[m][1]) for m in by_month)),
        "balance": initial["balance"],
        "transactions_count": sum(by_month[m][2] for m in by_month),
        "transfers_in": money(cents(moved[0])),
        "transfers_out": money(cents(-moved[1])),
        "transfers_count": moved[2],
        "by_category": [
            {
                "category": pk or None,
                "name": names[pk][0] if pk in names else "Uncategorized",
                **_figures(*by_category[pk]),
            }
            for pk in order
        ],
        "by_month": months,
        "limits": _limit_figures(budget[0]),
    }


# As Django's .values() of every column writes them: each aliased by its own name.
TX_PAGE_SELECT = (
    "SELECT "
    + ", ".join(
        f'"budgets_transaction"."{column}" AS "{column}"'
        for column in (
            "id",
            "created_at",
            "updated_at",
            "budget_id",
            "category_id",
            "amount",
            "description",
            "date",
            "recurring_rule_id",
            "recurring_date",
            "transfer_id",
        )
    )
    + " "
)
TX_FROM = (
    'FROM "budgets_transaction" INNER JOIN "budgets_budget" '
    'ON ("budgets_transaction"."budget_id" = "budgets_budget"."id") WHERE '
)
TX_MINE = '"budgets_budget"."user_id" = %s'
TX_MINE_IN_BUDGET = '("budgets_budget"."user_id" = %s AND "budgets_transaction"."budget_id" = %s)'


def transaction_out(row) -> dict:
    return {
        "id": row[0],
        "budget": row[3],
        "amount": money(row[5]),
        "category": row[4],
        "description": row[6],
        "date": day(row[7]),
        "recurring_rule": row[8],
        "transfer": row[10],
        "created_at": timestamp(row[1]),
        "updated_at": timestamp(row[2]),
    }


def transaction_list(environ, user, query):
    """Page of the caller's transactions, all of them or one budget's (``budget``)."""
    where, params = TX_MINE, [user[0]]
    count_where = '"budgets_budget"."user_id" = %s'
    if "budget" in query:
        where = TX_MINE_IN_BUDGET
        count_where = '("budgets_budget"."user_id" = %s AND "budgets_budget"."id" = %s)'
        params.append(query_int(query, "budget", 0, low=-(2**63)))
    return paginate(
        environ,
        query,
        'SELECT SUM("budgets_budget"."transactions_count") AS "rows" '
        f'FROM "budgets_budget" WHERE {count_where} GROUP BY "budgets_budget"."user_id"',
        TX_PAGE_SELECT
        + TX_FROM
        + where
        + ' ORDER BY "budgets_transaction"."date" DESC, "budgets_transaction"."created_at" DESC,'
        ' "budgets_transaction"."id" DESC',
        params,
        transaction_out,
    )


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_AMOUNT = re.compile(r"^[+-]?\d{1,10}(\.\d{1,2})?$")


def _body(environ) -> dict:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        data = json.loads(environ["wsgi.input"].read(length))
    except ValueError:
        raise HttpError("400 Bad Request", {"detail": "Request body is not valid JSON."}) from None
    if not isinstance(data, dict):
        raise bad_request("non_field_errors", "Request body must be a JSON object.")
    return data


def transaction_create(environ, user, query):
    data = _body(environ)
    budget_id, category_id = data.get("budget"), data.get("category")
    amount = str(data.get("amount", ""))
    description = str(data.get("description", "")).strip()
    date = str(data.get("date", ""))
    if type(budget_id) is not int:
        raise bad_request("budget", "Input should be a valid integer")
    if category_id is not None and type(category_id) is not int:
        raise bad_request("category", "Input should be a valid integer")
    if not _AMOUNT.match(amount) or decimal.Decimal(amount) == 0:
        raise bad_request("amount", "Input should be a valid decimal")
    if not _DATE.match(date) or len(description) > 255:
        raise bad_request("non_field_errors", "Invalid date or description.")
    value = decimal.Decimal(amount).quantize(CENT)
    now = dt.datetime.now(dt.UTC)
    stamp = now.replace(tzinfo=None).isoformat(" ") if db.sqlite else now
    db.execute("BEGIN IMMEDIATE" if db.sqlite else "BEGIN")
    try:
        budget = db.one(
            'SELECT "budgets_budget"."id" AS "pk" FROM "budgets_budget" '
            'WHERE ("budgets_budget"."user_id" = %s AND "budgets_budget"."id" IN (%s)) '
            "ORDER BY 1 ASC" + db.lock,
            (user[0], budget_id),
        )
        category = category_id is None or db.one(
            'SELECT "budgets_category"."id" AS "pk" FROM "budgets_category" '
            'WHERE ("budgets_category"."user_id" = %s AND "budgets_category"."id" IN (%s)) '
            "ORDER BY 1 ASC" + db.lock,
            (user[0], category_id),
        )
        if budget is None or category is None:
            field = "budget" if budget is None else "category"
            raise bad_request(field, f"{field.capitalize()} not found.")
        amount_cents = int(value * 100)
        db.execute(
            'UPDATE "budgets_budget" SET "transactions_cents" = ("budgets_budget".'
            '"transactions_cents" + %s), "transactions_count" = ("budgets_budget".'
            '"transactions_count" + 1) WHERE "budgets_budget"."id" = %s',
            (amount_cents, budget_id),
        )
        db.execute(
            'INSERT INTO "budgets_monthtotal" ("budget_id", "category_key", "month", "transfer", '
            '"income_cents", "expense_cents", "count") VALUES (%s, %s, %s, false, %s, %s, 1) '
            'ON CONFLICT ("budget_id", "category_key", "month", "transfer") DO UPDATE SET '
            '"income_cents" = "budgets_monthtotal"."income_cents" + excluded."income_cents", '
            '"expense_cents" = "budgets_monthtotal"."expense_cents" + excluded."expense_cents", '
            '"count" = "budgets_monthtotal"."count" + excluded."count"',
            (
                budget_id,
                category_id or 0,
                date[:8] + "01",
                max(amount_cents, 0),
                min(amount_cents, 0),
            ),
        )
        (new_id,) = db.one(
            'INSERT INTO "budgets_transaction" ("created_at", "updated_at", "budget_id", '
            '"category_id", "amount", "description", "date", "recurring_rule_id", '
            '"recurring_date", "transfer_id") VALUES (%s, %s, %s, %s, %s, %s, %s, NULL, NULL, '
            'NULL) RETURNING "id"',
            (
                stamp,
                stamp,
                budget_id,
                category_id,
                str(value) if db.sqlite else value,
                description,
                date,
            ),
        )
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return {
        "id": new_id,
        "budget": budget_id,
        "amount": str(value),
        "category": category_id,
        "description": description,
        "date": date,
        "recurring_rule": None,
        "transfer": None,
        "created_at": timestamp(now),
        "updated_at": timestamp(now),
    }


ROUTES = [
    ("GET", re.compile(r"^/api/users/me/$"), me),
    ("GET", re.compile(r"^/api/budgets/$"), budget_list),
    ("GET", re.compile(r"^/api/budgets/(\d+)/$"), budget_get),
    ("GET", re.compile(r"^/api/budgets/(\d+)/summary/$"), budget_summary),
    ("GET", re.compile(r"^/api/transactions/$"), transaction_list),
    ("POST", re.compile(r"^/api/transactions/$"), transaction_create),
]
CREATED = {transaction_create}


def application(environ, start_response):
    path, method = environ.get("PATH_INFO", ""), environ["REQUEST_METHOD"]
    try:
        for route_method, pattern, view in ROUTES:
            match = pattern.match(path)
            if match and route_method == method:
                user = authenticate(environ)
                query: dict[str, list[str]] = {}
                for key, value in parse_qsl(environ.get("QUERY_STRING", ""), True):
                    query.setdefault(key, []).append(value)
                body = view(environ, user, query, *(int(g) for g in match.groups()))
                status = "201 Created" if view in CREATED else "200 OK"
                headers = JSON_HEADERS
                break
        else:
            raise NOT_FOUND
    except HttpError as exc:
        status, body, headers = exc.status, exc.body, JSON_HEADERS + exc.headers
    payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    start_response(status, [*headers, ("Content-Length", str(len(payload)))])
    return [payload]
