import functools
import re

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Lower
from django.forms.utils import flatatt
from django.http import QueryDict
from django.utils.html import format_html, format_html_join
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from . import cached, paging, search
from .models import (
    Activity,
    ActivityStatus,
    Agreement,
    AgreementKind,
    Area,
    AreaKind,
    Country,
    FormerName,
    FormerSlug,
    Organisation,
    OrganisationKind,
    Participation,
    Publication,
    Region,
    Role,
    linked,
)

SEARCH_MAX_LENGTH = 200
#: The most records a filter names when what was typed matches several.
CANDIDATES_SHOWN = 20
#: The query parameters that place a list's page: a changed filter starts from the first.
PAGE_PARAMETERS = ["page", "after", "before"]
#: The `page` of a list's JSON (the API's list) that holds every row at once.
EVERY_ROW = "all"
#: Search results are sorted by relevance when there are at most this many.
RELEVANCE_LIMIT = 10_000


class PlainSelect(forms.Select):
    """
    A <select> written out in code. Django renders each option through a template, and for
    the few hundred options of a list's filters (countries, areas, regions) that took longer
    than all of the page's queries.
    """

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        if any(group_name for group_name, _, _ in widget["optgroups"]):
            return super().render(name, value, attrs, renderer)
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (option["value"], " selected" if option["selected"] else "", option["label"])
                for _, group, _ in widget["optgroups"]
                for option in group
            ),
        )
        return format_html(
            '<select name="{}"{}>{}</select>', name, flatatt(widget["attrs"]), options
        )


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
        for name, field in self.fields.items():
            if isinstance(field, RecordField):
                field.link = functools.partial(self.link_setting, name)

    def link_setting(self, name, value):
        """The query string of this list with the field `name` set to `value`, first page."""
        query = QueryDict(mutable=True)
        for key, values in self.data.lists():
            if key not in PAGE_PARAMETERS:
                query.setlist(key, values)
        query[name] = value
        return f"?{query.urlencode()}"

    def clean(self):
        for name in self.null_fields & self.fields.keys():
            self.add_error(name, ProhibitNullCharactersValidator.message)
        return super().clean()


class RecordField(forms.CharField):
    """
    A record chosen by typing, among thousands, without a list of them all in the page:
    the key that links use (a slug or a number), the record's label or name, or part of
    its name. Exactly one match chooses it; several are listed in the field's error, as
    links that choose one; none is an error too. Once chosen, the field shows the record's
    label, which chooses it again when the form is sent back.
    """

    noun = "record"
    plural = "records"

    def __init__(self, *, queryset, **kwargs):
        kwargs.setdefault("max_length", SEARCH_MAX_LENGTH)
        super().__init__(**kwargs)
        self.queryset = queryset
        self.link = None  # Set by FilterForm: the address of the list with a record chosen.
        self.labels = {}  # What was typed: the label of the record it chose.

    def __deepcopy__(self, memo):
        result = super().__deepcopy__(memo)
        result.labels = {}
        return result

    def clean(self, value):
        cleaned = super().clean(value)
        if not cleaned:
            return None
        matches = self.matches(cleaned)
        if not matches:
            raise ValidationError(f"No {self.noun} matches “{cleaned}”.", code="none")
        if len(matches) > 1:
            raise ValidationError(self.ambiguous(cleaned, matches), code="ambiguous")
        record = matches[0]
        self.labels[value] = self.label_of(record)
        return record

    def prepare_value(self, value):
        return self.labels.get(value, value)

    def matches(self, value):
        """The records `value` names exactly or, failing that, partly; best first."""
        queryset = self.prepared(self.queryset.all())
        return self.exact(queryset, value) or list(
            self.containing(queryset, value)[: CANDIDATES_SHOWN + 1]
        )

    def ambiguous(self, value, matches):
        """The error for a value that matches several records: links choosing each one."""
        shown = matches[:CANDIDATES_SHOWN]
        if self.link:
            names = format_html_join(
                ", ",
                '<a href="{}">{}</a>',
                ((self.link(self.key_of(record)), self.label_of(record)) for record in shown),
            )
        else:
            names = ", ".join(self.label_of(record) for record in shown)
        message = format_html("Several {} match “{}”: {}", self.plural, value, names)
        if len(matches) > CANDIDATES_SHOWN:
            more = self.containing(self.queryset.all(), value).count() - len(shown)
            message = format_html("{}, and {} more: type more of the name.", message, more)
        return message

    def prepared(self, queryset):
        """`queryset` with what the labels of its records need."""
        return queryset

    def exact(self, queryset, value):
        """The records `value` names exactly: one, or several that are equally good."""
        raise NotImplementedError

    def containing(self, queryset, value):
        """The records whose name contains `value`, in the order to list them."""
        raise NotImplementedError

    def key_of(self, record):
        raise NotImplementedError

    def label_of(self, record):
        return str(record)


#: A label with a parenthesised ending: "International Organization for Migration (IOM)".
PARENTHESISED = re.compile(r"^(?P<name>.+?)\s*\((?P<inside>[^()]+)\)$")


class OrganisationField(RecordField):
    """
    An organisation by its slug, its label ("Name (ACRONYM)"), its name or its acronym,
    or else by part of its name or acronym; all but the slug ignoring case. Organisations
    number a few thousand, so a search through their names needs no index of its own.
    """

    noun = "organisation"
    plural = "organisations"

    def exact(self, queryset, value):
        named = Q(slug=value) | Q(name__iexact=value) | Q(acronym__iexact=value)
        label = PARENTHESISED.match(value)
        if label:
            named |= Q(name__iexact=label["name"], acronym__iexact=label["inside"])
        # What it was called before: a former slug, name, acronym or label (see FormerName).
        former_named = Q(name__iexact=value) | Q(acronym__iexact=value)
        if label:
            former_named |= Q(name__iexact=label["name"], acronym__iexact=label["inside"])
        former = FormerName.objects.filter(former_named)
        former_slug = FormerSlug.objects.filter(slug=value)
        named |= Q(pk__in=former.values("organisation")) | Q(
            pk__in=former_slug.values("organisation")
        )
        was_slug = Exists(former_slug.filter(organisation=OuterRef("pk")))
        found = list(
            queryset.filter(named)
            .annotate(was_slug=was_slug)
            .order_by("name", "pk")[: CANDIDATES_SHOWN + 1]
        )
        typed = value.casefold()
        by_slug = [organisation for organisation in found if organisation.slug == value]
        by_slug = by_slug or [organisation for organisation in found if organisation.was_slug]
        by_name = [
            organisation
            for organisation in found
            if typed in (organisation.name.casefold(), self.label_of(organisation).casefold())
        ]
        # A name is unique, capitals aside; several organisations may share an acronym.
        return by_slug or by_name or found

    def containing(self, queryset, value):
        former = FormerName.objects.filter(Q(name__icontains=value) | Q(acronym__icontains=value))
        return queryset.filter(
            Q(name__icontains=value)
            | Q(acronym__icontains=value)
            | Q(pk__in=former.values("organisation"))
        ).order_by("name", "pk")

    def key_of(self, record):
        return record.slug

    def label_of(self, record):
        return f"{record.name} ({record.acronym})" if record.acronym else record.name


#: The largest key a database gives a row; a number above it names no agreement.
MAX_KEY = 2**63 - 1
NUMBER = re.compile(r"[0-9]+")
#: The label of an agreement whose title others share: "Memorandum (no. 12)".
NUMBERED = re.compile(r"^(?P<title>.+?)\s*\(no\.\s*(?P<pk>[0-9]{1,19})\)$", re.IGNORECASE)


class AgreementField(RecordField):
    """
    An agreement by its number (as in its address and in links), its title or label, or
    part of its title, ignoring case. A title that other public agreements share is
    labelled with the number too. Agreements number a few thousand, so a search through
    their titles needs no index of its own.
    """

    noun = "agreement"
    plural = "agreements"

    def matches(self, value):
        if not NUMBER.fullmatch(value):
            return super().matches(value)
        # A number is the agreement's key, as links give it, and never part of a title.
        number = int(value)
        queryset = self.prepared(self.queryset.all())
        found = queryset.filter(pk=number).first() if number <= MAX_KEY else None
        if found is None:
            raise ValidationError(f"No agreement has the number {value}.", code="none")
        return [found]

    def prepared(self, queryset):
        namesakes = (
            self.queryset.all()
            .alias(lower_title=Lower("title"))
            .filter(~Q(pk=OuterRef("pk")), lower_title=Lower(OuterRef("title")))
        )
        return queryset.annotate(namesakes=Exists(namesakes))

    def exact(self, queryset, value):
        named = Q(title__iexact=value)
        numbered = NUMBERED.match(value)
        if numbered and int(numbered["pk"]) <= MAX_KEY:
            named |= Q(pk=int(numbered["pk"]), title__iexact=numbered["title"])
        found = list(queryset.filter(named).order_by("title", "pk")[: CANDIDATES_SHOWN + 1])
        typed = value.casefold()
        by_label = [
            agreement for agreement in found if self.label_of(agreement).casefold() == typed
        ]
        return by_label or found

    def containing(self, queryset, value):
        return queryset.filter(title__icontains=value).order_by("title", "pk")

    def key_of(self, record):
        return str(record.pk)

    def label_of(self, record):
        return f"{record.title} (no. {record.pk})" if record.namesakes else record.title


# The API's schema (drf-spectacular) cannot tell what these take from a model field: text.
@extend_schema_field(OpenApiTypes.STR)
class OrganisationChoiceFilter(django_filters.Filter):
    """An organisation typed into a text field (see OrganisationField)."""

    field_class = OrganisationField


@extend_schema_field(OpenApiTypes.STR)
class AgreementChoiceFilter(django_filters.Filter):
    """An agreement typed into a text field (see AgreementField)."""

    field_class = AgreementField


class SlugFilter(django_filters.ModelChoiceFilter):
    """A choice among dozens or hundreds of records (areas, countries), named by slug."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("to_field_name", "slug")
        kwargs.setdefault("widget", PlainSelect)
        super().__init__(*args, **kwargs)


class OrderingFilter(django_filters.OrderingFilter):
    """Order with undated rows last in both directions, as both databases then agree."""

    def get_ordering_value(self, param):
        name = self.param_map[param.removeprefix("-")]
        # NULLS LAST only where there are nulls: PostgreSQL reads a plain index backwards
        # for DESC, but not for DESC NULLS LAST, even on a column that holds no null.
        nulls_last = self.model._meta.get_field(name).null or None
        if param.startswith("-"):
            return F(name).desc(nulls_last=nulls_last)
        return F(name).asc(nulls_last=nulls_last)

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        if not value:
            return qs
        # Ties broken by primary key, in the same direction, so keyset pages can follow.
        return qs.order_by(*qs.query.order_by, "-pk" if value[0].startswith("-") else "pk")


class SearchFilter(django_filters.CharFilter):
    """A free-text filter: the rows `find(queryset, text, counting)` returns (see search.py)."""

    def __init__(self, label, find):
        super().__init__(label=label, method="filter_search", max_length=SEARCH_MAX_LENGTH)
        self.find = find


def contains_filter(label, *fields):
    """A free-text filter: rows with the text in any of `fields`, ignoring case."""

    def method(queryset, name, value):
        condition = Q()
        for field in fields:
            condition |= Q(**{f"{field}__icontains": value})
        return queryset.filter(condition)

    return django_filters.CharFilter(label=label, method=method, max_length=SEARCH_MAX_LENGTH)


def linked_to(queryset, relation, value, counting=False):
    """
    Rows of `queryset` linked to `value` through the many-to-many field `relation`, read
    from the link table as models.linked() chooses; to count them (`counting`), joined.
    """
    if counting:
        # A join read from the value's links stops once it has counted enough; a link table
        # holds each pair once, so no row is counted twice.
        return queryset.filter(**{relation: value})
    field = queryset.model._meta.get_field(relation)
    links = field.remote_field.through.objects.filter(**{field.m2m_reverse_field_name(): value})
    return linked(queryset, links, field.m2m_field_name())


ORGANISATION_HELP = "Its name, acronym, or part of either, now or before."


def date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def date_bound(field_name, lookup_expr, label):
    """One end of a range of days: `lookup_expr` "gte" (on or after) or "lte" (on or before)."""
    return django_filters.DateFilter(
        field_name=field_name, lookup_expr=lookup_expr, label=label, widget=date_input()
    )


class ListFilterSet(django_filters.FilterSet):
    """
    The filters of a public list. `counted` holds the rows of `qs` filtered in the forms
    that count fastest: a page in the list's order and its count are read differently
    (see models.linked).
    """

    counting = False

    @functools.cached_property
    def counted(self):
        if not self.is_bound:
            return self.qs
        self.counting = True
        try:
            return self.filter_queryset(self.queryset.all())
        finally:
            self.counting = False

    #: The bounded count of `counted` (paging.bounded_count), when filtering needed it.
    known_count = None

    def counted_without(self, names):
        """`counted` with the filters `names` left out, as a facet counts (see facets.py)."""
        cleaned = self.form.cleaned_data
        self.form.cleaned_data = {
            name: None if name in names else value for name, value in cleaned.items()
        }
        self.counting = True
        try:
            return self.filter_queryset(self.queryset.all())
        finally:
            self.form.cleaned_data = cleaned
            self.counting = False

    def filter_linked(self, queryset, name, value):
        return linked_to(queryset, name, value, self.counting)

    def filter_search(self, queryset, name, value):
        return self.filters[name].find(queryset, value, self.counting)


class ActivityFilter(ListFilterSet):
    q = SearchFilter("Search titles, descriptions and organisations", search.activities)
    organisation = OrganisationChoiceFilter(
        queryset=Organisation.objects.public(),
        method="filter_organisation",
        label="Organisation",
        help_text=ORGANISATION_HELP,
    )
    role = django_filters.ChoiceFilter(
        choices=Role.choices,
        method="filter_role",
        label="Role",
        empty_label="Any role",
        help_text="With an organisation: that organisation in this role.",
    )
    area = SlugFilter(
        queryset=Area.objects.public(),
        field_name="areas",
        method="filter_linked",
        label="Area",
        empty_label="Any area",
    )
    status = django_filters.ChoiceFilter(
        choices=ActivityStatus.choices, label="Status", empty_label="Any status"
    )
    agreement = AgreementChoiceFilter(
        queryset=Agreement.objects.public(),
        label="Agreement",
        help_text="Its title, part of it, or its number.",
    )
    agreement_kind = django_filters.ChoiceFilter(
        choices=AgreementKind.choices,
        method="filter_agreement_kind",
        label="Agreement kind",
        empty_label="Any kind of agreement",
    )
    country = SlugFilter(
        queryset=Country.objects.public(),
        to_field_name="code",
        field_name="countries",
        method="filter_linked",
        label="Country",
        empty_label="Any country",
    )
    region = SlugFilter(
        queryset=Region.objects.public(),
        field_name="regions",
        method="filter_linked",
        label="Region",
        empty_label="Any region",
    )
    start_date_after = date_bound("start_date", "gte", "Started on or after")
    start_date_before = date_bound("start_date", "lte", "Started on or before")
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
            "agreement_kind",
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
        if text and not self.form.cleaned_data.get("sort") and not self.counting:
            # The count the list shows too, as RELEVANCE_LIMIT is within COUNT_LIMIT.
            self.known_count = cached.search_count(
                self.data, lambda: paging.bounded_count(self.counted)
            )
            if self.known_count <= self.relevance_limit:
                queryset = search.ranked(queryset, text)
                self.search_order = "relevance"
            else:
                self.search_order = "too-many"
        return queryset

    def filter_organisation(self, queryset, name, value):
        return queryset.involving(value, self.form.cleaned_data.get("role"), self.counting)

    def filter_agreement_kind(self, queryset, name, value):
        return queryset.filter(agreement__kind=value, agreement__publication=Publication.PUBLISHED)

    def filter_role(self, queryset, name, value):
        if self.form.cleaned_data.get("organisation"):
            return queryset  # Applied with the organisation, to the same participation.
        return queryset.filter(
            Exists(Participation.objects.filter(activity=OuterRef("pk"), role=value))
        )


class OrganisationFilter(ListFilterSet):
    q = SearchFilter("Search names and acronyms", search.organisations)
    kind = django_filters.ChoiceFilter(
        choices=OrganisationKind.choices, label="Kind", empty_label="Any kind"
    )
    partner = OrganisationChoiceFilter(
        queryset=Organisation.objects.public(),
        method="filter_partner",
        label="Cooperates with",
        help_text=ORGANISATION_HELP,
    )

    class Meta:
        form = FilterForm
        model = Organisation
        fields = ["q", "kind", "partner"]

    def filter_partner(self, queryset, name, value):
        return queryset.partners_of(value)


class AreaFilter(ListFilterSet):
    # A few dozen areas: a substring search costs nothing and finds parts of words.
    q = contains_filter("Search names and descriptions", "name", "description")
    kind = django_filters.ChoiceFilter(
        choices=AreaKind.choices, label="Kind", empty_label="Any kind"
    )

    class Meta:
        form = FilterForm
        model = Area
        fields = ["q", "kind"]


class RegionFilter(ListFilterSet):
    # A few dozen regions, as areas.
    q = contains_filter("Search names", "name")

    class Meta:
        form = FilterForm
        model = Region
        fields = ["q"]


class AgreementFilter(ListFilterSet):
    q = SearchFilter("Search titles and summaries", search.agreements)
    kind = django_filters.ChoiceFilter(
        choices=AgreementKind.choices, label="Kind", empty_label="Any kind"
    )
    party = OrganisationChoiceFilter(
        queryset=Organisation.objects.public(),
        field_name="parties",
        method="filter_linked",
        label="Party",
        help_text=ORGANISATION_HELP,
    )
    area = SlugFilter(
        queryset=Area.objects.public(),
        field_name="areas",
        method="filter_linked",
        label="Area",
        empty_label="Any area",
    )
    signed_on_after = date_bound("signed_on", "gte", "Signed on or after")
    signed_on_before = date_bound("signed_on", "lte", "Signed on or before")

    class Meta:
        form = FilterForm
        model = Agreement
        fields = ["q", "kind", "party", "area", "signed_on_after", "signed_on_before"]
