"""
The admin's date hierarchy without a scan of the whole table.

Django's `date_hierarchy` tag opens with the earliest and latest dates of the list (MIN and
MAX in one query, which SQLite answers by reading every row) and then SELECT DISTINCT of
every row's year. Here the ends come from the index, one row each, and the years from one
query of EXISTS probes, one per year between them. When the list is searched, each probe
would read the search's matches anew: the years offered are then those of all rows. Below
the years the list is already narrowed to one year or month, and Django's own tag serves it.
"""

import datetime

from django import template
from django.contrib.admin.templatetags.admin_list import date_hierarchy
from django.db.models import Exists
from django.utils import timezone

register = template.Library()


@register.inclusion_tag("admin/date_hierarchy.html")
def probed_date_hierarchy(cl):
    field = cl.date_hierarchy
    if any(param.startswith(f"{field}__") for param in cl.params):
        return date_hierarchy(cl)
    # A search's matches are read whole for each probe: offer the years of all rows then.
    rows = cl.root_queryset if cl.query else cl.queryset
    dated = rows.filter(**{f"{field}__isnull": False}).order_by()
    first, last = (
        dated.order_by(*order).values_list("pk", field)[:1]
        for order in [(field, "pk"), (f"-{field}", "-pk")]
    )
    ends = [*first, *last]
    if not ends:
        return {"show": True, "back": None, "choices": []}
    (pk, earliest), (_, latest) = ends
    if isinstance(earliest, datetime.datetime) and timezone.is_aware(earliest):
        earliest, latest = timezone.localtime(earliest), timezone.localtime(latest)
    if earliest.year == latest.year:
        return date_hierarchy(cl)  # One year of rows: Django's months or days are cheap.
    years = range(earliest.year, latest.year + 1)
    probes = {f"y{year}": Exists(dated.filter(**{f"{field}__year": year})) for year in years}
    found = cl.model._default_manager.filter(pk=pk).annotate(**probes).values_list(*probes)
    present = [year for year, found_one in zip(years, found.get(), strict=True) if found_one]
    return {
        "show": True,
        "back": None,
        "choices": [
            {"link": cl.get_query_string({f"{field}__year": year}, [f"{field}__"]), "title": year}
            for year in map(str, present)
        ],
    }
