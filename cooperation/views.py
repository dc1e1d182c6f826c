from django.db.models import F, Prefetch
from django.views.generic import DetailView, TemplateView
from django_filters.views import FilterView

from .filters import ActivityFilter, AgreementFilter, AreaFilter, OrganisationFilter
from .models import (
    Activity,
    Agreement,
    Area,
    Citation,
    Organisation,
    Participation,
    Publication,
    Signatory,
)

LATEST_ACTIVITIES = 5


def participants():
    return Prefetch("participations", queryset=Participation.objects.select_related("organisation"))


def published_activities():
    activities = Activity.objects.published().newest_first()
    return Prefetch(
        "activities",
        queryset=activities.prefetch_related(participants(), "areas"),
        to_attr="published_activities",
    )


def public_citations():
    # The full text of a source is staff only: never load it for a public page.
    citations = (
        Citation.objects.public()
        .defer("source__text")
        .prefetch_related("source__publishers")
        .order_by(F("source__published_on").desc(nulls_last=True), "source__title", "source", "pk")
    )
    return Prefetch("citations", queryset=citations, to_attr="public_citations")


class FilterListView(FilterView):
    """A filtered list that answers an invalid filter with its errors and status 400."""

    paginate_by = 25

    def render_to_response(self, context, **response_kwargs):
        if self.filterset.is_bound and not self.filterset.is_valid():
            response_kwargs.setdefault("status", 400)
        return super().render_to_response(context, **response_kwargs)


class HomeView(TemplateView):
    template_name = "cooperation/home.html"

    def get_context_data(self, **kwargs):
        activities = Activity.objects.published()
        return super().get_context_data(
            activity_count=activities.count(),
            organisation_count=Organisation.objects.count(),
            agreement_count=Agreement.objects.count(),
            area_count=Area.objects.count(),
            latest_activities=activities.newest_first().prefetch_related(participants(), "areas")[
                :LATEST_ACTIVITIES
            ],
            **kwargs,
        )


class ActivityListView(FilterListView):
    queryset = Activity.objects.published().newest_first().prefetch_related(participants(), "areas")
    filterset_class = ActivityFilter


class ActivityDetailView(DetailView):
    queryset = (
        Activity.objects.published()
        .select_related("agreement")
        .prefetch_related(participants(), "areas", "regions", public_citations())
    )


class OrganisationListView(FilterListView):
    queryset = Organisation.objects.select_related("parent")
    filterset_class = OrganisationFilter


class OrganisationDetailView(DetailView):
    queryset = Organisation.objects.select_related("parent").prefetch_related(
        "children",
        "agreements",
        Prefetch(
            "participations",
            queryset=Participation.objects.filter(activity__publication=Publication.PUBLISHED)
            .select_related("activity")
            .order_by(F("activity__start_date").desc(nulls_last=True), "-activity__pk", "role"),
            to_attr="published_participations",
        ),
        public_citations(),
    )

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            partners=Organisation.objects.partners_of(self.object), **kwargs
        )


class AreaListView(FilterListView):
    queryset = Area.objects.order_by("-kind", "name")  # Thematic areas, then cross-cutting.
    filterset_class = AreaFilter


class AreaDetailView(DetailView):
    queryset = Area.objects.prefetch_related(
        "agreements", published_activities(), public_citations()
    )


class AgreementListView(FilterListView):
    queryset = Agreement.objects.prefetch_related("parties")
    filterset_class = AgreementFilter


class AgreementDetailView(DetailView):
    queryset = Agreement.objects.select_related("supersedes").prefetch_related(
        "superseded_by",
        "parties",
        Prefetch(
            "signatories",
            queryset=Signatory.objects.select_related("person", "organisation").defer(
                "person__telephone", "person__email"
            ),
        ),
        "areas",
        published_activities(),
        public_citations(),
    )
