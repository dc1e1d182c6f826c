from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.db.models import F, Prefetch, QuerySet
from django.http import Http404, HttpResponsePermanentRedirect, QueryDict
from django.urls import reverse
from django.views.generic import DetailView, TemplateView
from django_filters.views import FilterView

from . import cached, charts, counts, facets, glossary, history, paging
from .cached import public_totals
from .filters import (
    ActivityFilter,
    AgreementFilter,
    AreaFilter,
    FilterForm,
    OrganisationFilter,
    RegionFilter,
    linked_to,
)
from .models import (
    Activity,
    Agreement,
    Area,
    Citation,
    Organisation,
    Participation,
    Region,
    Signatory,
)
from .paging import BoundedPaginator, CursorPage, InvalidCursor, Key, Pages, cursor_page

LATEST_ACTIVITIES = 5
#: How many of its activities or agreements a record's page shows, newest first.
LATEST_ON_RECORD = 10
#: How many partners an organisation's page names, by name.
PARTNERS_SHOWN = 20


def participants():
    """
    The organisations taking part in each activity, in the order of Participation's Meta
    (role, then organisation's name) but by the activity's key rather than its own order:
    the rows of one activity are the same, and the query joins no activity to sort them.
    """
    taking_part = Participation.objects.select_related("organisation").order_by(
        "activity_id", "role", "organisation__name"
    )
    return Prefetch("participations", queryset=taking_part)


@dataclass
class Excerpt:
    """
    The first few rows of a related list on a record's page, how many rows the list has
    (counted up to paging.COUNT_LIMIT), and the address of the whole list, filtered.
    """

    rows: list
    count: int
    url: str
    noun: str
    plural: str

    @classmethod
    def of(cls, queryset, size, list_name, query, noun, plural, counted=None, count=None):
        """
        `counted` is the same rows as `queryset` in a form that counts faster, if any;
        `count` their number, where it is known without counting (counts.py).
        """
        url = f"{reverse(f'cooperation:{list_name}')}?{urlencode(query)}"
        if count is None:
            count = paging.bounded_count(queryset if counted is None else counted)
        else:
            count = min(count, paging.COUNT_LIMIT + 1)
        return cls(list(queryset[:size]), count, url, noun, plural)

    @property
    def more(self):
        return self.count > len(self.rows)

    @property
    def count_label(self):
        if self.count > paging.COUNT_LIMIT:
            return f"more than {paging.COUNT_LIMIT:,}"
        return f"{self.count:,}"

    @property
    def link_label(self):
        """The words of the link to the whole list: "All 1,234 activities"."""
        if self.count == 1:
            return f"The 1 {self.noun} in the list of {self.plural}"
        if self.count > paging.COUNT_LIMIT:
            return f"All of more than {paging.COUNT_LIMIT:,} {self.plural}"
        return f"All {self.count:,} {self.plural}"


def latest(listed, linked, list_name, list_query, noun, plural, stored=None):
    """
    The latest rows of the public list `listed` that are linked to a record, for its page:
    `linked(queryset, counting)` narrows a list to them (see models.linked). `stored` is
    (list, facet, value) where the table of counts holds how many there are (counts.py).
    """
    return Excerpt.of(
        linked(listed, False),
        LATEST_ON_RECORD,
        list_name,
        list_query,
        noun,
        plural,
        counted=linked(listed.order_by(), True),
        count=counts.of_value(*stored) if stored else None,
    )


def latest_activities(linked, list_query, *prefetches, stored=None):
    listed = Activity.objects.public().newest_first().prefetch_related(*prefetches)
    stored = stored and (counts.ACTIVITIES, *stored)
    return latest(listed, linked, "activity-list", list_query, "activity", "activities", stored)


def latest_agreements(linked, list_query, stored=None):
    listed = Agreement.objects.public()
    stored = stored and (counts.AGREEMENTS, *stored)
    return latest(listed, linked, "agreement-list", list_query, "agreement", "agreements", stored)


def linked_to_record(relation, record):
    """A `linked` for latest_activities() or latest_agreements(): through `relation`."""

    def linked(queryset, counting):
        return linked_to(queryset, relation, record, counting)

    return linked


def published_agreements(relation):
    return Prefetch(relation, queryset=Agreement.objects.public(), to_attr=f"published_{relation}")


def record_citations():
    """
    The citations on a record's page: all of them, as the record is public or previewed.
    The full text of a source is staff only: never load it for a public page.
    """
    citations = (
        Citation.objects.select_related("source")
        .defer("source__text")
        .prefetch_related(Prefetch("source__publishers", queryset=Organisation.objects.public()))
        .order_by(F("source__published_on").desc(nulls_last=True), "source__title", "source", "pk")
    )
    return Prefetch("citations", queryset=citations, to_attr="public_citations")


#: What the 404 page of a list says of a `page` that is not one of its pages.
NO_SUCH_PAGE = (
    "This list has no such page: its pages are numbered from 1, and “last” is the last one."
)


class FilterListView(FilterView):
    """
    A filtered list that answers an invalid filter with its errors and status 400, counts
    at most COUNT_LIMIT rows, and pages with keyset cursors past its numbered pages.
    """

    paginate_by = 25
    paginator_class = BoundedPaginator
    page_error = None

    @property
    def counted(self):
        """The rows listed, in the form that counts fastest; a search's ranked list as it is."""
        if isinstance(self.object_list, QuerySet) and self.object_list is self.filterset.qs:
            return self.filterset.counted
        return self.object_list

    def get_paginator(self, queryset, per_page, **kwargs):
        paginator = super().get_paginator(queryset, per_page, counted=self.counted, **kwargs)
        if self.filterset.known_count is not None and isinstance(queryset, QuerySet):
            paginator.count = self.filterset.known_count  # Counted already, the same rows.
        return paginator

    def paginate_queryset(self, queryset, page_size):
        after, before = self.request.GET.get("after"), self.request.GET.get("before")
        key = Key.of(queryset)
        if not (after or before):
            try:
                return super().paginate_queryset(queryset, page_size)
            except Http404:  # Django's words ("Invalid page (0): …") are for developers.
                raise Http404(NO_SUCH_PAGE) from None
        try:
            if after and before:
                raise InvalidCursor("A page link names either the rows after or before a row.")
            if key is None:
                raise InvalidCursor("This list cannot be paged from a row in this order.")
            page = cursor_page(queryset, key, after or before, bool(before), page_size)
        except InvalidCursor as error:
            self.page_error = str(error)
            page = CursorPage([], key, has_next=False, has_previous=False)
        return None, page, page.object_list, True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        queryset = self.object_list
        context["pages"] = Pages.of(context["paginator"], context["page_obj"], Key.of(queryset))
        context["result_count"] = (
            context["paginator"].count
            if context["paginator"]
            else self.filterset.known_count or paging.bounded_count(self.counted)
        )
        context["count_is_exact"] = context["result_count"] <= paging.COUNT_LIMIT
        context["count_limit"] = paging.COUNT_LIMIT
        context["page_error"] = self.page_error
        context["data_version"] = cached.version()  # Keys the filter form kept in the cache.
        return context

    def render_to_response(self, context, **response_kwargs):
        if self.page_error or (self.filterset.is_bound and not self.filterset.is_valid()):
            response_kwargs.setdefault("status", 400)
        return super().render_to_response(context, **response_kwargs)


class FacetedListView(FilterListView):
    """A filtered list with facets, a summary of the filters in use, and charts."""

    #: A function that returns the list's facets.Field objects.
    facet_fields = None
    list_name = ""

    def paginate_queryset(self, queryset, page_size):
        # The whole list, or the list narrowed by one or two facets' values or to an
        # agreement's activities: its total is kept with the facet counts (counts.py).
        total = facets.known_total(
            self.facet_fields, self.list_name, self.filterset, self.request.GET
        )
        if total is not None:
            self.filterset.known_count = min(total, paging.COUNT_LIMIT + 1)
        return super().paginate_queryset(queryset, page_size)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET
        valid = not self.filterset.is_bound or self.filterset.is_valid()
        found = (
            facets.facets(self.filterset, self.facet_fields, self.list_name, query) if valid else []
        )
        context["active_filters"] = facets.active_filters(self.filterset, query)
        context["facets"] = found
        context["charts"] = charts_of(found) if self.list_name == "activities" else []
        return context


def charts_of(found, base=""):
    """
    The charts drawn from the activity list's facets, by start year and by area, where they
    were counted; their bars link to the list at `base` ("" for the list itself).
    """
    drawn = {"start_year": charts.by_start_year, "area": charts.by_area}
    return [
        drawn[facet.name](facet, base) for facet in found if facet.name in drawn and facet.counted
    ]


class PublicDetailView(DetailView):
    """
    A public record's page. Anonymous visitors see public records only; staff who may view
    the record in the admin also see it before it is public, under a draft banner.
    """

    def get_object(self, queryset=None):
        try:
            return super().get_object(queryset)
        except Http404:
            noun = self.queryset.model._meta.verbose_name
            raise Http404(f"No published {noun} has this address.") from None

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.previewing:
            return queryset
        return queryset.public()

    @property
    def previewing(self):
        opts = self.queryset.model._meta
        return self.request.user.is_staff and self.request.user.has_perm(
            f"{opts.app_label}.view_{opts.model_name}"
        )

    def get_context_data(self, **kwargs):
        public = self.queryset.model.objects.public()
        draft = self.previewing and not public.filter(pk=self.object.pk).exists()
        return super().get_context_data(draft=draft, **kwargs)


class HomeView(TemplateView):
    template_name = "cooperation/home.html"

    def get_context_data(self, **kwargs):
        totals = public_totals()
        latest = Activity.objects.public().newest_first()[:LATEST_ACTIVITIES]
        # The list's facets unfiltered, from the cache: the charts of all activities.
        unfiltered = ActivityFilter(queryset=Activity.objects.public())
        found = facets.facets(unfiltered, facets.chart_fields, "activities", QueryDict())
        return super().get_context_data(
            latest_activities=latest.prefetch_related(participants(), "areas"),
            charts=charts_of(found, reverse("cooperation:activity-list")),
            **totals,
            **kwargs,
        )


class ActivityListView(FacetedListView):
    queryset = Activity.objects.public().newest_first().prefetch_related(participants(), "areas")
    filterset_class = ActivityFilter
    facet_fields = staticmethod(facets.activity_fields)
    list_name = "activities"


class ActivityDetailView(PublicDetailView):
    queryset = Activity.objects.select_related("agreement").prefetch_related(
        participants(), "areas", "countries", "regions", record_citations()
    )


class OrganisationListView(FilterListView):
    queryset = Organisation.objects.public().with_public_parent()
    filterset_class = OrganisationFilter


class OrganisationDetailView(PublicDetailView):
    queryset = Organisation.objects.with_public_parent().prefetch_related(
        Prefetch("children", queryset=Organisation.objects.public(), to_attr="public_children"),
        "former_names",
        record_citations(),
    )

    def get(self, request, *args, **kwargs):
        """An address with a slug the organisation had before leads, for good, to its page."""
        try:
            return super().get(request, *args, **kwargs)
        except Http404:
            former = self.get_queryset().filter(former_slugs__slug=kwargs["slug"]).first()
            if former is None:
                raise
            query = request.META.get("QUERY_STRING")
            url = former.get_absolute_url() + (f"?{query}" if query else "")
            return HttpResponsePermanentRedirect(url)

    def get_context_data(self, **kwargs):
        organisation = self.object
        query = {"organisation": organisation.slug}
        own_roles = Prefetch(
            "participations",
            queryset=Participation.objects.filter(organisation=organisation).order_by("role"),
            to_attr="roles_of_organisation",
        )
        partners = Organisation.objects.partners_of(organisation)
        return super().get_context_data(
            activities=latest_activities(
                lambda activities, counting: activities.involving(organisation, None, counting),
                query,
                own_roles,
                stored=("organisation", organisation.pk),
            ),
            agreements=latest_agreements(
                linked_to_record("parties", organisation),
                {"party": organisation.slug},
                stored=("party", organisation.pk),
            ),
            partners=Excerpt.of(
                partners,
                PARTNERS_SHOWN,
                "organisation-list",
                {"partner": organisation.slug},
                "partner",
                "partners",
            ),
            **kwargs,
        )


class AreaListView(FilterListView):
    queryset = Area.objects.public().order_by("-kind", "name")  # Thematic, then cross-cutting.
    filterset_class = AreaFilter


class AreaDetailView(PublicDetailView):
    queryset = Area.objects.prefetch_related(record_citations())

    def get_context_data(self, **kwargs):
        area = self.object
        query = {"area": area.slug}
        return super().get_context_data(
            activities=latest_activities(
                linked_to_record("areas", area),
                query,
                participants(),
                "areas",
                stored=("area", area.pk),
            ),
            agreements=latest_agreements(
                linked_to_record("areas", area), query, stored=("area", area.pk)
            ),
            **kwargs,
        )


class RegionListView(FilterListView):
    queryset = Region.objects.public()
    filterset_class = RegionFilter


class RegionDetailView(PublicDetailView):
    queryset = Region.objects.prefetch_related(record_citations())

    def get_context_data(self, **kwargs):
        region = self.object
        return super().get_context_data(
            activities=latest_activities(
                linked_to_record("regions", region),
                {"region": region.slug},
                participants(),
                "areas",
                stored=("region", region.pk),
            ),
            **kwargs,
        )


class AgreementListView(FacetedListView):
    queryset = Agreement.objects.public().prefetch_related("parties")
    filterset_class = AgreementFilter
    facet_fields = staticmethod(facets.agreement_fields)
    list_name = "agreements"


class AgreementDetailView(PublicDetailView):
    queryset = Agreement.objects.select_related("supersedes").prefetch_related(
        published_agreements("superseded_by"),
        "parties",
        Prefetch(
            "signatories",
            queryset=Signatory.objects.for_parties()
            .select_related("person", "organisation")
            .defer("person__telephone", "person__email"),
        ),
        "areas",
        record_citations(),
    )

    def get_context_data(self, **kwargs):
        agreement = self.object
        return super().get_context_data(
            activities=latest_activities(
                lambda activities, counting: activities.filter(agreement=agreement),
                {"agreement": agreement.pk},
                participants(),
                "areas",
            ),
            **kwargs,
        )


class GlossaryView(TemplateView):
    template_name = "cooperation/glossary.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(sections=glossary.sections(), **kwargs)


class ChangeLogForm(FilterForm):
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class ChangeLogView(TemplateView):
    """Recent changes to public records: what changed and when, not who changed it."""

    template_name = "cooperation/changes.html"

    def get(self, request, *args, **kwargs):
        form = ChangeLogForm(request.GET)
        if not form.is_valid():
            return self.render_to_response({"form": form}, status=400)
        changes, more = history.public_changes(before=form.cleaned_data["before"])
        return self.render_to_response(self.get_context_data(form=form, changes=changes, more=more))
