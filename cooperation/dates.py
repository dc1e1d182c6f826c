"""
Dates as precise as their source: a day, a month or a year.

A record keeps each such date in a DateField, as the first day of its period for a start or
a signing and as the last day for an end, beside a precision field. Indexes, keyset pages,
date filters and the "ends after it starts" constraint keep working on the DateField: a
start known only as "2012" is stored as 1 January 2012, so it sorts with the dates of that
day, before "March 2012" and every exact date of the year; an end known as "2012" is 31
December 2012.

Staff type dates as releases write them; `parse` reads the forms in FORMS.
"""

import calendar
import datetime
import re

from django import forms
from django.core.exceptions import ValidationError
from django.db import models


class Precision(models.TextChoices):
    DAY = "day", "Day"
    MONTH = "month", "Month"
    YEAR = "year", "Year"


FIRST, LAST = "first", "last"
FORMS = "22 January 2026, 22 Jan 2026, 22/01/2026, 2026-01-22, January 2026, 2026-01 or 2012"
MONTHS = {
    name.lower(): number
    for number in range(1, 13)
    for name in (calendar.month_name[number], calendar.month_abbr[number])
}
PATTERNS = [
    (re.compile(r"(?P<day>\d{1,2}) (?P<month>[a-z]+)\.? (?P<year>\d{4})"), Precision.DAY),
    (re.compile(r"(?P<day>\d{1,2})/(?P<month>\d{1,2})/(?P<year>\d{4})"), Precision.DAY),
    (re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})"), Precision.DAY),
    (re.compile(r"(?P<month>[a-z]+)\.? (?P<year>\d{4})"), Precision.MONTH),
    (re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})"), Precision.MONTH),
    (re.compile(r"(?P<year>\d{4})"), Precision.YEAR),
]


class PreciseDate(datetime.date):
    """A date with the precision it was given in; a plain date to the database."""

    precision = Precision.DAY

    @classmethod
    def of(cls, day, precision):
        made = cls(day.year, day.month, day.day)
        made.precision = precision
        return made


def parse(text, edge=FIRST):
    """
    The PreciseDate that `text` writes: the first day of its period, or with `edge` LAST
    the last. Raises ValidationError, naming the forms read, for anything else.
    """
    written = " ".join(text.replace(",", " ").split()).lower()
    for pattern, precision in PATTERNS:
        found = pattern.fullmatch(written)
        if found:
            return build(found.groupdict(), precision, edge, text)
    raise ValidationError(
        f"“{text}” is not a date this field reads. Write it as {FORMS}.", code="invalid"
    )


def build(parts, precision, edge, text):
    year = int(parts["year"])
    month = parts.get("month")
    if month is None:
        month = 1 if edge == FIRST else 12
    elif month.isdigit():
        month = int(month)
    elif month in MONTHS:
        month = MONTHS[month]
    else:
        raise ValidationError(f"“{text}”: no month is called “{month}”.", code="invalid")
    if not 1 <= month <= 12:
        raise ValidationError(f"“{text}”: there is no month {month}.", code="invalid")
    if not year >= 1:
        raise ValidationError(f"“{text}”: there is no year {year}.", code="invalid")
    days = calendar.monthrange(year, month)[1]
    day = parts.get("day")
    day = int(day) if day else (1 if edge == FIRST else days)
    if not 1 <= day <= days:
        month_name = calendar.month_name[month]
        raise ValidationError(f"“{text}”: {month_name} {year} has no day {day}.", code="invalid")
    return PreciseDate.of(datetime.date(year, month, day), precision)


def shown(day, precision):
    """`day` in words, no more precisely than known: "22 January 2026", "January 2026", "2026"."""
    if day is None:
        return ""
    if precision == Precision.YEAR:
        return str(day.year)
    if precision == Precision.MONTH:
        return f"{calendar.month_name[day.month]} {day.year}"
    return f"{day.day} {calendar.month_name[day.month]} {day.year}"


class PreciseDateField(forms.CharField):
    """A date typed as a release writes it; cleans to a PreciseDate (see parse)."""

    def __init__(self, *, edge=FIRST, **kwargs):
        self.edge = edge
        kwargs.setdefault("help_text", f"As the source writes it: {FORMS}.")
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, datetime.date):
            return value
        text = super().to_python(value)
        return parse(text, self.edge) if text else None

    def prepare_value(self, value):
        if isinstance(value, datetime.date):
            return shown(value, getattr(value, "precision", Precision.DAY))
        return value

    def has_changed(self, initial, data):
        return self.prepare_value(initial) != (data or "").strip()


def precision_field(verbose_name):
    """The precision of the DateField beside it; set by the admin's forms, not typed."""
    return models.CharField(
        verbose_name, max_length=5, choices=Precision, default=Precision.DAY, editable=False
    )
