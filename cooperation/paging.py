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

from django.core.paginator import InvalidPage, Paginator
from django.db.models import F, OrderBy, Q
from django.utils.functional import cached_property

#: The most rows a list counts exactly; beyond, it says "more than" this.
COUNT_LIMIT = 10_000


class InvalidCursor(ValueError):
    pass


def bounded_count(queryset, limit=COUNT_LIMIT):
    """The number of rows, counting no more than `limit` + 1 of them."""
    return queryset.order_by()[: limit + 1].count()


class BoundedPaginator(Paginator):
    """Numbered pages over at most COUNT_LIMIT rows; the count stops just past it."""

    @cached_property
    def count(self):
        return bounded_count(self.object_list)

    @property
    def count_is_exact(self):
        return self.count <= COUNT_LIMIT

    @cached_property
    def num_pages(self):
        return super().num_pages if self.count_is_exact else COUNT_LIMIT // self.per_page


@dataclass(frozen=True)
class Key:
    """The order of a list: one field, then the primary key in the same direction."""

    field: str
    descending: bool
    nullable: bool

    @classmethod
    def of(cls, queryset):
        """The key of `queryset`'s order, or None if keyset pages cannot follow it."""
        terms = [term for term in queryset.query.order_by]
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
        descending = self.descending != backwards
        return [term(self.field, descending), "-pk" if descending else "pk"]

    def segments(self, queryset, cursor, backwards):
        """
        The querysets that list, in order, the rows after `cursor` (before it if
        `backwards`): for a nullable field, the dated rows and then the undated ones.
        """
        descending = self.descending != backwards
        later = "lt" if descending else "gt"
        dated = queryset.filter(**{f"{self.field}__isnull": False}) if self.nullable else queryset
        undated = queryset.filter(**{f"{self.field}__isnull": True})
        if cursor is not None:
            value, pk = cursor
            if value is None:
                dated = None
                undated = undated.filter(**{f"pk__{later}": pk})
            else:
                dated = dated.filter(
                    Q(**{f"{self.field}__{later}": value})
                    | Q(**{self.field: value, f"pk__{later}": pk})
                )
        ordered_dated = dated.order_by(*self.order(backwards)) if dated is not None else None
        ordered_undated = undated.order_by("-pk" if descending else "pk")
        if not self.nullable:
            return [ordered_dated]
        # Undated rows come last, so going backwards they come first.
        parts = [ordered_undated, ordered_dated] if backwards else [ordered_dated, ordered_undated]
        return [part for part in parts if part is not None]

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


def term(field, descending):
    return F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)


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
    for segment in key.segments(queryset, key.decode(cursor), backwards):
        rows += list(segment[: size + 1 - len(rows)])
        if len(rows) > size:
            break
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
        return CursorPage(rows, key, has_next=bool(rows), has_previous=more)
    return CursorPage(rows, key, has_next=more, has_previous=bool(rows))


__all__ = ["COUNT_LIMIT", "BoundedPaginator", "InvalidCursor", "InvalidPage", "Key", "cursor_page"]
