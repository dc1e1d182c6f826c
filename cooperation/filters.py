import django_filters
from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.db.models import Exists, F, OuterRef, Q
from django_countries import countries

from . import search
from .models import (
    Activity,
    ActivityStatus,
    Agreement,
    AgreementKind,
    Area,
    AreaKind,
    Organisation,
    OrganisationKind,
    Participation,
    Region,
    Role,
)

SEARCH_MAX_LENGTH = 200
#: Search results are sorted by relevance when there are at most this many.
RELEVANCE_LIMIT = 10_000


class FilterForm(forms.Form):
    """
    Refuse a NUL character in any field without echoing it back: the databases cannot
    compare it, and it has no place in a page.
    """

    def __init__(self, data=None, *args, **kwargs):
        self.null_fields = set()
        if data is not None:
            data = data.copy()
            for name, values in data.lists():
                if any("\x00" in value for value in values):
                    self.null_fields.add(name)
                    data.setlist(name, [value.replace("\x00", "") for value in values])
        super().__init__(data, *args, **kwargs)

    def clean(self):
        for name in self.null_fields & self.fields.keys():
            self.add_error(name, ProhibitNullCharactersValidator.message)
        return super().clean()


class SlugFilter(django_filters.ModelChoiceFilter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("to_field_name", "slug")
        super().__init__(*args, **kwargs)


class OrderingFilter(django_filters.OrderingFilter):
    """Order with undated rows last in both directions, as both databases then agree."""

    def get_ordering_value(self, param):
        name = self.param_map[param.removeprefix("-")]
        if param.startswith("-"):
            return F(name).desc(nulls_last=True)
        return F(name).asc(nulls_last=True)

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        return qs.order_by(*qs.query.order_by, "pk") if value else qs


def search_filter(label, find):
    """A free-text filter: the rows `find(queryset, text)` returns (see search.py)."""

    def method(queryset, name, value):
        return find(queryset, value)

    return django_filters.CharFilter(label=label, method=method, max_length=SEARCH_MAX_LENGTH)


def contains_filter(label, *fields):
    """A free-text filter: rows with the text in any of `fields`, ignoring case."""

    def method(queryset, name, value):
        condition = Q()
        for field in fields:
            condition |= Q(**{f"{field}__icontains": value})
        return queryset.filter(condition)

    return django_filters.CharFilter(label=label, method=method, max_length=SEARCH_MAX_LENGTH)


def linked_to(queryset, relation, value):
    """
    Rows of `queryset` linked to `value` through the many-to-many field `relation`:
    an EXISTS subquery on the link table, so no join multiplies the rows.
    """
    field = queryset.model._meta.get_field(relation)
    links = field.remote_field.through.objects.filter(
        **{field.m2m_field_name(): OuterRef("pk"), field.m2m_reverse_field_name(): value}
    )
    return queryset.filter(Exists(links))


def date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ActivityFilter(django_filters.FilterSet):
    q = search_filter("Search titles, descriptions and organisations", search.activities)
    organisation = SlugFilter(
        queryset=Organisation.objects.public(),
        method="filter_organisation",
        label="Organisation",
        empty_label="Any organisation",
    )
    role = django_filters.ChoiceFilter(
        choices=Role,
        method="filter_role",
        label="Role",
        empty_label="Any role",
        help_text="With an organisation: that organisation in this role.",
    )
    area = SlugFilter(
        queryset=Area.objects.public(),
        field_name="areas",
        method=linked_to,
        label="Area",
        empty_label="Any area",
    )
    status = django_filters.ChoiceFilter(
        choices=ActivityStatus, label="Status", empty_label="Any status"
    )
    agreement = django_filters.ModelChoiceFilter(
        queryset=Agreement.objects.public(), label="Agreement", empty_label="Any agreement"
    )
    country = django_filters.ChoiceFilter(
        choices=lambda: list(countries),
        method="filter_country",
        label="Country",
        empty_label="Any country",
    )
    region = SlugFilter(
        queryset=Region.objects.public(),
        field_name="regions",
        method=linked_to,
        label="Region",
        empty_label="Any region",
    )
    start_date_after = django_filters.DateFilter(
        field_name="start_date",
        lookup_expr="gte",
        label="Started on or after",
        widget=date_input(),
    )
    start_date_before = django_filters.DateFilter(
        field_name="start_date",
        lookup_expr="lte",
        label="Started on or before",
        widget=date_input(),
    )
    sort = OrderingFilter(
        fields=[("start_date", "start"), ("title", "title")],
        choices=[
            ("-start", "Start date, latest first"),
            ("start", "Start date, earliest first"),
            ("title", "Title, A to Z"),
            ("-title", "Title, Z to A"),
        ],
        label="Sort by",
        empty_label="Latest first, or best match when searching",
    )

    class Meta:
        form = FilterForm
        model = Activity
        fields = [
            "q",
            "organisation",
            "role",
            "area",
            "status",
            "agreement",
            "country",
            "region",
            "start_date_after",
            "start_date_before",
            "sort",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        #: "relevance", "too-many" (a search with more matches than RELEVANCE_LIMIT, left
        #: in the chosen order) or "" (no search, or a sort chosen explicitly).
        self.search_order = ""
        self.relevance_limit = RELEVANCE_LIMIT

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        text = self.form.cleaned_data.get("q")
        if text and not self.form.cleaned_data.get("sort"):
            limit = self.relevance_limit
            if search.count_up_to(queryset, limit + 1) <= limit:
                queryset = search.ranked(queryset, text)
                self.search_order = "relevance"
            else:
                self.search_order = "too-many"
        return queryset

    def filter_organisation(self, queryset, name, value):
        return queryset.involving(value, role=self.form.cleaned_data.get("role"))

    def filter_role(self, queryset, name, value):
        if self.form.cleaned_data.get("organisation"):
            return queryset  # Applied with the organisation, to the same participation.
        return queryset.filter(
            Exists(Participation.objects.filter(activity=OuterRef("pk"), role=value))
        )

    def filter_country(self, queryset, name, value):
        # The codes are stored comma-separated; two letters between commas match one code only.
        return queryset.filter(countries__contains=value)


class OrganisationFilter(django_filters.FilterSet):
    q = search_filter("Search names and acronyms", search.organisations)
    kind = django_filters.ChoiceFilter(
        choices=OrganisationKind, label="Kind", empty_label="Any kind"
    )

    class Meta:
        form = FilterForm
        model = Organisation
        fields = ["q", "kind"]


class AreaFilter(django_filters.FilterSet):
    # A few dozen areas: a substring search costs nothing and finds parts of words.
    q = contains_filter("Search names and descriptions", "name", "description")
    kind = django_filters.ChoiceFilter(choices=AreaKind, label="Kind", empty_label="Any kind")

    class Meta:
        form = FilterForm
        model = Area
        fields = ["q", "kind"]


class AgreementFilter(django_filters.FilterSet):
    q = search_filter("Search titles and summaries", search.agreements)
    kind = django_filters.ChoiceFilter(choices=AgreementKind, label="Kind", empty_label="Any kind")
    party = SlugFilter(
        queryset=Organisation.objects.public(),
        field_name="parties",
        method=linked_to,
        label="Party",
        empty_label="Any party",
    )
    area = SlugFilter(
        queryset=Area.objects.public(),
        field_name="areas",
        method=linked_to,
        label="Area",
        empty_label="Any area",
    )

    class Meta:
        form = FilterForm
        model = Agreement
        fields = ["q", "kind", "party", "area"]
