"""Prepared reads: a query shape compiled once by the ORM, re-run with new parameters.

For the small indexed reads of a page, building a queryset and compiling it costs more
than PostgreSQL spends answering it, and DESIGN.md §7 holds those reads to twice the time
of raw SQL. So on PostgreSQL the ORM writes the SQL of each shape of read once; later reads
of that shape run the same SQL with their own parameters on a cursor and build the rows
exactly as Django's ModelIterable or ValuesListIterable would (converters, select_related
models, annotations). Other databases (SQLite in tests) run the ORM every time, and tests
on PostgreSQL check that both paths give the same rows.

`prepared_read` does it all for a read whose values are ints, dates or lists of ints;
selectors with a shape of their own (a queryset given by the caller) build a `Prepared`
from the ORM's SQL with `stand_in`, `found_again` and `row_maker`, and keep it with
`prepared_shape`.
"""

import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet
from django.db.models.query import ModelIterable, ValuesListIterable, get_related_populators
from django.db.models.sql.compiler import SQLCompiler

SHAPES_MAX = 256  # shapes kept; a new shape beyond it drops the oldest
# The shapes seen, by key: their prepared SQL, or None for a shape that runs through the ORM.
shapes: dict[Hashable, "Prepared | None"] = {}
_shapes_lock = threading.Lock()
_MISSING: Any = object()  # not looked at yet
# Stand-ins for the values of a read while the ORM writes its SQL: in range for any integer
# column and no real date, so each is found again among the parameters.
_INT_STAND_IN = -2_000_000_000
_DATE_STAND_IN = date(1001, 1, 1)

RowMaker = Callable[[list[tuple[Any, ...]], BaseDatabaseWrapper], list[Any]]


@dataclass(frozen=True)
class _Slot:
    """A parameter taken from the values of each run."""

    name: str


@dataclass(frozen=True)
class Prepared:
    sql: str
    params: tuple[Any, ...]  # constants, and a _Slot where each run puts its value
    make_rows: RowMaker

    def run(
        self, using: str, values: Mapping[str, object], tail: Sequence[object] = ()
    ) -> list[Any]:
        params: list[Any] = [values[p.name] if isinstance(p, _Slot) else p for p in self.params]
        params.extend(tail)
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        return self.make_rows(rows, connection)


def prepared_shape(key: Hashable, prepare: Callable[[], Prepared | None]) -> Prepared | None:
    """The SQL kept for the shape `key`, prepared by `prepare` the first time it is seen;
    None for a shape that runs through the ORM."""
    prepared = shapes.get(key, _MISSING)
    if prepared is _MISSING:
        prepared = prepare()
        _remember(key, prepared)
    assert prepared is None or isinstance(prepared, Prepared)  # noqa: S101 - not the sentinel
    return prepared


def _remember(key: Hashable, prepared: Prepared | None) -> None:
    with _shapes_lock:
        if key not in shapes and len(shapes) >= SHAPES_MAX:
            del shapes[next(iter(shapes))]
        shapes[key] = prepared


def row_maker(queryset: QuerySet[Any], compiler: SQLCompiler) -> RowMaker | None:
    """What ModelIterable or ValuesListIterable makes of the rows of the compiled queryset;
    None for any other kind of read (then it is not prepared)."""
    if compiler.has_extra_select or queryset._known_related_objects:  # type: ignore[attr-defined]
        return None
    select = compiler.select
    converters = list(compiler.get_converters([s[0] for s in select[: compiler.col_count]]).items())

    def converted(row: tuple[Any, ...], connection: BaseDatabaseWrapper) -> list[Any]:
        values = list(row)
        for position, (functions, expression) in converters:
            value = values[position]
            for function in functions:
                value = function(value, expression, connection)
            values[position] = value
        return values

    if queryset._iterable_class is ValuesListIterable:

        def tuples(rows: list[tuple[Any, ...]], connection: BaseDatabaseWrapper) -> list[Any]:
            if not converters:
                return rows
            return [tuple(converted(row, connection)) for row in rows]

        return tuples
    if queryset._iterable_class is not ModelIterable:
        return None
    db = queryset.db
    klass_info, annotations = compiler.klass_info, list(compiler.annotation_col_map.items())
    assert klass_info is not None  # noqa: S101 - a model query selects its model
    model = klass_info["model"]
    fields = klass_info["select_fields"]
    start, end = fields[0], fields[-1] + 1
    init_list = [column[0].target.attname for column in select[start:end]]
    related = get_related_populators(klass_info, select, db)  # type: ignore[call-arg]

    def instances(rows: list[tuple[Any, ...]], connection: BaseDatabaseWrapper) -> list[Any]:
        out = []
        for row in rows:
            values: Sequence[Any] = converted(row, connection) if converters else row
            obj = model.from_db(db, init_list, values[start:end])
            for populator in related:
                populator.populate(values, obj)
            for name, position in annotations:
                setattr(obj, name, values[position])
            out.append(obj)
        return out

    return instances


def stand_in(index: int, value: object) -> object:
    """A value of the same kind as `value` that no real read uses, the `index`th of its kind:
    an int, a date, or for a list of ints a list of one int (an array parameter)."""
    if type(value) is int:
        return _INT_STAND_IN - index
    if type(value) is date:
        return _DATE_STAND_IN + timedelta(days=index)
    if type(value) is list and all(type(v) is int for v in value):
        return [_INT_STAND_IN - index]
    raise TypeError(
        f"A prepared read takes ints and dates (or lists of ints), not {type(value).__name__}."
    )


def _known(value: object) -> Hashable:
    """`value` as a dictionary key: by type and value, a list by its items."""
    if type(value) is list:
        return (list, tuple(value))
    return (type(value), value)


def found_again(params: Sequence[Any], stand_ins: Mapping[str, object]) -> tuple[Any, ...] | None:
    """The parameters with a _Slot for each stand-in; None unless every one is found."""
    names = {_known(v): name for name, v in stand_ins.items()}
    out: list[Any] = []
    for param in params:
        try:
            name = names.get(_known(param))
        except TypeError:  # an unhashable constant
            name = None
        out.append(param if name is None else _Slot(name))
    found = {p.name for p in out if isinstance(p, _Slot)}
    return tuple(out) if found == set(stand_ins) else None


def prepared_read(
    build: Callable[..., QuerySet[Any]], *static: Hashable, **values: int | date | list[int] | None
) -> list[Any]:
    """list(build(*static, **values)), through SQL written once per shape on PostgreSQL.

    `build` must depend on nothing but its arguments. `static` arguments are part of the
    shape (a LIMIT, a flag); `values` are parameters of the SQL: ints, dates, or lists of
    ints that the SQL takes as one array parameter (`= ANY(%s)`), so that a list of any
    length shares the shape. None makes a shape of its own (the SQL says IS NULL or leaves
    the condition out)."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        return list(build(*static, **values))
    key = (build, static, tuple((name, value is None) for name, value in values.items()))

    def prepare() -> Prepared | None:
        stand_ins = {
            name: stand_in(i, value)
            for i, (name, value) in enumerate(values.items())
            if value is not None
        }
        queryset = build(*static, **{**values, **stand_ins})
        if queryset.db != DEFAULT_DB_ALIAS:
            return None
        compiler = queryset.query.get_compiler(queryset.db)
        sql, params = compiler.as_sql()
        recipe = found_again(params, stand_ins)
        make_rows = row_maker(queryset, compiler)
        if recipe is None or make_rows is None:
            return None
        return Prepared(sql, recipe, make_rows)

    prepared = prepared_shape(key, prepare)
    if prepared is None:
        return list(build(*static, **values))
    return prepared.run(DEFAULT_DB_ALIAS, values)
