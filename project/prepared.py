"""Querysets compiled once: the hot reads' SQL without building and compiling the same
queryset on every request.

Building a queryset and compiling it to SQL costs more CPU than most of the statements it
sends (bench/README.md measures it). A :class:`PreparedQuery` builds its queryset once per
database connection with a *probe* integer standing for each parameter, compiles it, and
remembers where each probe landed among the statement's parameters. Every later call runs
the same SQL with the caller's values in those places, applies the same converters to the
rows and makes the same model instances (or value tuples): what the queryset itself would
have returned, for a fraction of the cost.

Only integer parameters can be probed (ids, amounts in cents): Django passes them to the
database unchanged, so a probe is found exactly where the value goes. Anything that
changes the SQL's shape (an ordering, a filter that is present or not) is a separate
prepared query; the paginated ones take ``LIMIT``/``OFFSET`` as parameters.

    BUDGET = PreparedQuery(lambda user, budget: Budget.objects.filter(user=user, pk=budget))
    BUDGET.first(user=request.auth.pk, budget=12)
"""

import inspect
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from django.db import connections, router
from django.db.models import QuerySet
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    ValuesIterable,
    ValuesListIterable,
)
from django.db.transaction import TransactionManagementError

M = TypeVar("M")

# Valid ids (selectors check them) that no constant a queryset puts among its parameters
# (True, 0, a page size...) ever equals: a probe is told apart from those.
_PROBE_BASE = 1_917_263_800
_CACHE_ATTR = "_prepared_queries"
# Model instances, .values() dicts, .values_list() tuples or flat values.
_ITERABLES = (
    ModelIterable,
    ValuesIterable,
    ValuesListIterable,
    FlatValuesListIterable,
)  # per connection object: {PreparedQuery: _Compiled}


class _Compiled:
    """One prepared query's SQL for one connection, and how to make its rows."""

    __slots__ = (
        "annotations",
        "compiler",
        "converters",
        "field_names",
        "fields",
        "flat",
        "for_update",
        "keys",
        "model",
        "slots",
        "sql",
    )

    def __init__(self, prepared: "PreparedQuery", connection) -> None:
        probes = {name: _PROBE_BASE - i for i, name in enumerate(prepared.parameters)}
        queryset = prepared.build(**probes)
        iterable = queryset._iterable_class
        query = queryset.query
        if iterable not in _ITERABLES:
            raise TypeError(f"Cannot prepare a {iterable.__name__} queryset.")
        if queryset._prefetch_related_lookups:
            raise TypeError("Cannot prepare a queryset with prefetch_related().")
        if prepared.paged and (query.is_sliced or query.select_for_update):
            raise TypeError("A paged query takes its own LIMIT: no slice, no FOR UPDATE.")
        compiler = query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        by_probe = {value: name for name, value in probes.items()}
        slots: list[str] = []  # the parameter each %s stands for
        constants = []
        for value in params:
            name = by_probe.get(value) if type(value) is int else None
            if name is None:
                constants.append(value)
            slots.append(name)
        missing = set(prepared.parameters) - set(slots)
        inlined = [name for name, value in probes.items() if str(value) in sql]
        if missing or inlined:
            raise TypeError(
                f"Cannot prepare {prepared!r}: parameters {sorted(missing | set(inlined))} "
                "are not bound parameters of its SQL."
            )
        if constants:
            # A value computed when the queryset is built (today's date, a setting) would
            # be frozen at the first compile: only the caller's values may be parameters.
            raise TypeError(f"Cannot prepare {prepared!r}: constant parameters {constants!r}.")
        if compiler.has_extra_select or compiler.col_count != len(compiler.select):
            raise TypeError(f"Cannot prepare {prepared!r}: its rows carry extra columns.")
        columns = [column for column, _, _ in compiler.select]
        self.model = None
        # .values(): dicts with the names ValuesIterable gives them.
        self.keys = None
        if iterable is ValuesIterable:
            self.keys = (
                tuple(query.selected)
                if query.selected
                else (
                    *query.extra_select,
                    *query.values_select,
                    *query.annotation_select,
                )
            )
        if iterable is ModelIterable:  # as ModelIterable makes them
            info = compiler.klass_info
            if info.get("related_klass_infos"):
                raise TypeError("Cannot prepare a queryset with select_related().")
            start, end = info["select_fields"][0], info["select_fields"][-1] + 1
            self.model = info["model"]
            self.fields = slice(start, end)
            self.field_names = [column.target.attname for column in columns[start:end]]
            self.annotations = tuple(compiler.annotation_col_map.items())
        if prepared.paged:
            sql += " LIMIT %s OFFSET %s"
        self.sql = sql
        self.slots = slots
        self.for_update = (
            queryset.query.select_for_update and connection.features.has_select_for_update
        )
        self.flat = iterable is FlatValuesListIterable
        self.compiler = compiler
        self.converters = compiler.get_converters(columns)


class PreparedQuery(Generic[M]):
    """``build(**parameters)``'s queryset, compiled once per connection and run with new
    integer values; the parameters are ``build``'s argument names. ``paged`` ones take a
    limit and an offset on every run."""

    def __init__(self, build: Callable[..., QuerySet], *, paged: bool = False) -> None:
        code = build.__code__
        if code.co_kwonlyargcount or code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS):
            raise TypeError("Name every parameter as a plain argument of build.")
        self.build = build
        self.parameters: tuple[str, ...] = code.co_varnames[: code.co_argcount]
        self.paged = paged
        self._route: Callable[[], str] | None = None

    def __repr__(self) -> str:
        return f"<PreparedQuery {self.build.__qualname__}({', '.join(self.parameters)})>"

    def _connection(self):
        if self._route is None:  # once: which database the queryset would use
            queryset = self.build(**dict.fromkeys(self.parameters, _PROBE_BASE))
            route = router.db_for_write if queryset.query.select_for_update else router.db_for_read
            model = queryset.model
            self._route = lambda: route(model)
        return connections[self._route()]

    def compiled(self, connection=None) -> _Compiled:
        connection = connection or self._connection()
        cache = connection.__dict__.setdefault(_CACHE_ATTR, {})
        compiled = cache.get(self)
        if compiled is None:
            compiled = cache[self] = _Compiled(self, connection)
        return compiled

    def sql(self, connection=None) -> str:
        """The statement it sends (for tests and the benchmark's reference)."""
        return self.compiled(connection).sql

    def rows(self, *, limit: int | None = None, offset: int = 0, **values: int) -> list[M]:
        """Every row (a page of them when ``paged``), as the queryset would give them."""
        connection = self._connection()
        compiled = self.compiled(connection)
        if compiled.for_update and connection.get_autocommit():
            # What the queryset's own compiler refuses: a lock that would end at once.
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        params = [values[name] for name in compiled.slots]
        if self.paged:
            if limit is None:
                raise TypeError("A paged query needs a limit.")
            params += (limit, offset)
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            fetched: Iterable[tuple] = cursor.fetchall()
        if compiled.converters:
            fetched = compiled.compiler.apply_converters(fetched, compiled.converters)
        if compiled.model is not None:
            make, alias, names = compiled.model.from_db, connection.alias, compiled.field_names
            fields, annotations = compiled.fields, compiled.annotations
            objects = []
            for row in fetched:
                obj = make(alias, names, row[fields])
                for name, position in annotations:
                    setattr(obj, name, row[position])
                objects.append(obj)
            return objects
        if compiled.keys is not None:
            keys = compiled.keys
            return [dict(zip(keys, row, strict=True)) for row in fetched]
        if compiled.flat:
            return [row[0] for row in fetched]
        return [tuple(row) for row in fetched]

    def first(self, **values: int) -> M | None:
        """The first row (the queryset should end in ``[:1]`` or match one row), or None."""
        found = self.rows(**values) if not self.paged else self.rows(limit=1, **values)
        return found[0] if found else None
