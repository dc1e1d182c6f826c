"""
Pages of a long list that cost the same at row 25 and at row 500,000.

Numbered pages (`?page=N`) serve the first COUNT_LIMIT rows: an offset is cheap that far,
and the count needed to number them stops at COUNT_LIMIT + 1. Past that, and on any page
reached with Next or Previous from a numbered one, a list moves by keyset cursors:
`?after=<cursor>` or `?before=<cursor>` name the last (or first) row shown, and the page is
the rows that follow it in the list's order, found through the order's index.

A cursor holds the sort value and the primary key of a row, so a link to it stays good while
rows are added. Undated rows come last in both date orders: a date order is two segments,
the dated rows by date and then the undated ones by primary key, each read through an index.
"""

import base64
import binascii
import datetime
import json
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db.models import F, OrderBy, Q, QuerySet, prefetch_related_objects
from django.utils.functional import cached_property

#: The most rows a list counts exactly; beyond, it says "more than" this.
COUNT_LIMIT = 10_000


class InvalidCursor(ValueError):
    pass


def bounded_count(rows):
    """The number of rows, counting no more than COUNT_LIMIT + 1 of a queryset's."""
    if not isinstance(rows, QuerySet):
        return len(rows)  # Search results in relevance order are a list already bounded.
    return rows.order_by()[: COUNT_LIMIT + 1].count()


class BoundedPaginator(Paginator):
    """
    Numbered pages over at most COUNT_LIMIT rows; the count stops just past it. `counted`
    is the same rows in a form that counts faster, if the list has one.
    """

    def __init__(self, object_list, per_page, *args, counted=None, **kwargs):
        super().__init__(object_list, per_page, *args, **kwargs)
        self.counted = object_list if counted is None else counted

    @cached_property
    def count(self):
        return bounded_count(self.counted)

    @property
    def count_is_exact(self):
        return self.count <= COUNT_LIMIT

    @cached_property
    def num_pages(self):
        return super().num_pages if self.count_is_exact else -(-COUNT_LIMIT // self.per_page)


@dataclass(frozen=True)
class Key:
    """The order of a list: one field, then the primary key in the same direction."""

    field: str
    descending: bool
    nullable: bool

    @classmethod
    def of(cls, queryset):
        """The key of `queryset`'s order, or None if keyset pages cannot follow it."""
        if not isinstance(queryset, QuerySet):
            return None
        terms = list(queryset.query.order_by)
        if len(terms) != 2:
            return None
        (field, descending), (last, last_descending) = map(term_of, terms)
        if last != "pk" or descending != last_descending or field in (None, "pk"):
            return None
        model_field = queryset.model._meta.get_field(field)
        return cls(field, descending, model_field.null)

    def value(self, row):
        return getattr(row, self.field)

    def order(self, backwards):
        # Plain ASC or DESC: undated rows are read apart, and the index serves this order
        # on both databases, where NULLS LAST may need an index of its own.
        descending = self.descending != backwards
        return [f"-{self.field}" if descending else self.field, "-pk" if descending else "pk"]

    def segments(self, queryset, cursor, backwards):
        """
        The querysets that list, in order, the rows after `cursor` (before it if
        `backwards`): for a nullable field, dated rows by date, then undated ones by key.
        """
        descending = self.descending != backwards
        later = "lt" if descending else "gt"
        dated = queryset.order_by(*self.order(backwards))
        if not self.nullable:
            if cursor is None:
                return [dated]
            return [dated.filter(self.after(cursor, later))]
        dated = dated.filter(**{f"{self.field}__isnull": False})
        undated = queryset.filter(**{f"{self.field}__isnull": True}).order_by(
            "-pk" if descending else "pk"
        )
        if cursor is None:
            return [undated, dated] if backwards else [dated, undated]
        value, pk = cursor
        if value is None:
            undated = undated.filter(**{f"pk__{later}": pk})
            return [undated, dated] if backwards else [undated]
        dated = dated.filter(self.after(cursor, later))
        return [dated] if backwards else [dated, undated]

    def after(self, cursor, later):
        value, pk = cursor
        # The first condition alone bounds a range of the index; without it SQLite reads
        # the OR as two lookups and sorts what they find.
        return Q(**{f"{self.field}__{later}e": value}) & (
            Q(**{f"{self.field}__{later}": value}) | Q(**{self.field: value, f"pk__{later}": pk})
        )

    def encode(self, row):
        value = self.value(row)
        if isinstance(value, datetime.date):
            value = value.isoformat()
        raw = json.dumps([value, row.pk], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def decode(self, cursor):
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            value, pk = json.loads(raw)
        except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
            raise InvalidCursor("This page link is damaged.") from None
        if not isinstance(pk, int) or not (value is None or isinstance(value, str)):
            raise InvalidCursor("This page link is damaged.")
        if value is not None and self.nullable:
            try:
                value = datetime.date.fromisoformat(value)
            except ValueError:
                raise InvalidCursor("This page link is damaged.") from None
        return value, pk


def term_of(term):
    """(field name, descending) of one `order_by` term."""
    if isinstance(term, str):
        return term.removeprefix("-"), term.startswith("-")
    if isinstance(term, OrderBy) and isinstance(term.expression, F):
        return term.expression.name, term.descending
    return None, None


@dataclass
class CursorPage:
    """A page of rows found from a cursor, with the cursors of its neighbours."""

    object_list: list
    key: Key
    has_next: bool
    has_previous: bool

    @property
    def next_cursor(self):
        return self.key.encode(self.object_list[-1]) if self.has_next else None

    @property
    def previous_cursor(self):
        return self.key.encode(self.object_list[0]) if self.has_previous else None


def cursor_page(queryset, key, cursor, backwards, size):
    """
    The `size` rows after `cursor` (before it if `backwards`), reading one row more to know
    whether the list goes on.
    """
    rows = []
    for segment in key.segments(queryset.prefetch_related(None), key.decode(cursor), backwards):
        rows += list(segment[: size + 1 - len(rows)])
        if len(rows) > size:
            break
    more = len(rows) > size
    rows = rows[:size]
    prefetch_related_objects(rows, *queryset._prefetch_related_lookups)
    if backwards:
        rows.reverse()
        return CursorPage(rows, key, has_next=bool(rows), has_previous=more)
    return CursorPage(rows, key, has_next=more, has_previous=bool(rows))


@dataclass
class Pages:
    """The links between pages of a list, numbered or by cursor, for its template."""

    label: str
    first_page: int | None = None
    previous_page: int | None = None
    next_page: int | None = None
    last_page: int | None = None
    previous_cursor: str | None = None
    next_cursor: str | None = None

    @property
    def has_other_pages(self):
        return any(
            [
                self.first_page,
                self.previous_page,
                self.next_page,
                self.previous_cursor,
                self.next_cursor,
            ]
        )

    @classmethod
    def of(cls, paginator, page, key):
        if paginator is None:
            return cls(
                label="Later pages" if page.has_previous else "",
                first_page=1 if page.has_previous else None,
                previous_cursor=page.previous_cursor,
                next_cursor=page.next_cursor,
            )
        number, exact = page.number, paginator.count_is_exact
        rows = list(page.object_list)  # The query the template would run, run once here.
        at_end_of_numbers = not exact and number == paginator.num_pages
        return cls(
            label=f"Page {number} of {paginator.num_pages if exact else 'many'}",
            first_page=1 if number > 2 else None,
            previous_page=number - 1 if page.has_previous() else None,
            next_page=number + 1 if page.has_next() and not at_end_of_numbers else None,
            last_page=paginator.num_pages if exact and number < paginator.num_pages - 1 else None,
            next_cursor=key.encode(rows[-1]) if key and rows and at_end_of_numbers else None,
        )
