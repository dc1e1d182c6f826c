from django import forms
from django.db.models import F, Prefetch
from django.views.generic import DetailView, TemplateView
from django_filters.views import FilterView

from . import history
from .filters import ActivityFilter, AgreementFilter, AreaFilter, FilterForm, OrganisationFilter
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
    activities = Activity.objects.public().newest_first()
    return Prefetch(
        "activities",
        queryset=activities.prefetch_related(participants(), "areas"),
        to_attr="published_activities",
    )


def published_agreements(relation="agreements"):
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


class FilterListView(FilterView):
    """A filtered list that answers an invalid filter with its errors and status 400."""

    paginate_by = 25

    def render_to_response(self, context, **response_kwargs):
        if self.filterset.is_bound and not self.filterset.is_valid():
            response_kwargs.setdefault("status", 400)
        return super().render_to_response(context, **response_kwargs)


class PublicDetailView(DetailView):
    """
    A public record's page. Anonymous visitors see public records only; staff who may view
    the record in the admin also see it before it is public, under a draft banner.
    """

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
        activities = Activity.objects.public()
        return super().get_context_data(
            activity_count=activities.count(),
            organisation_count=Organisation.objects.public().count(),
            agreement_count=Agreement.objects.public().count(),
            area_count=Area.objects.public().count(),
            latest_activities=activities.newest_first().prefetch_related(participants(), "areas")[
                :LATEST_ACTIVITIES
            ],
            **kwargs,
        )


class ActivityListView(FilterListView):
    queryset = Activity.objects.public().newest_first().prefetch_related(participants(), "areas")
    filterset_class = ActivityFilter


class ActivityDetailView(PublicDetailView):
    queryset = Activity.objects.select_related("agreement").prefetch_related(
        participants(), "areas", "countries", "regions", record_citations()
    )


class OrganisationListView(FilterListView):
    queryset = Organisation.objects.public().select_related("parent")
    filterset_class = OrganisationFilter


class OrganisationDetailView(PublicDetailView):
    queryset = Organisation.objects.select_related("parent").prefetch_related(
        Prefetch("children", queryset=Organisation.objects.public(), to_attr="public_children"),
        published_agreements(),
        Prefetch(
            "participations",
            queryset=Participation.objects.filter(activity__publication=Publication.PUBLISHED)
            .select_related("activity")
            .order_by(F("activity__start_date").desc(nulls_last=True), "-activity__pk", "role"),
            to_attr="published_participations",
        ),
        record_citations(),
    )

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            partners=Organisation.objects.partners_of(self.object), **kwargs
        )


class AreaListView(FilterListView):
    queryset = Area.objects.public().order_by("-kind", "name")  # Thematic, then cross-cutting.
    filterset_class = AreaFilter


class AreaDetailView(PublicDetailView):
    queryset = Area.objects.prefetch_related(
        published_agreements(), published_activities(), record_citations()
    )


class AgreementListView(FilterListView):
    queryset = Agreement.objects.public().prefetch_related("parties")
    filterset_class = AgreementFilter


class AgreementDetailView(PublicDetailView):
    queryset = Agreement.objects.select_related("supersedes").prefetch_related(
        published_agreements("superseded_by"),
        "parties",
        Prefetch(
            "signatories",
            queryset=Signatory.objects.select_related("person", "organisation").defer(
                "person__telephone", "person__email"
            ),
        ),
        "areas",
        published_activities(),
        record_citations(),
    )


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
