from django import forms
from django.contrib import admin, messages
from django.db import models
from django.db.models import Prefetch
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import ngettext

from .models import (
    CITED_MODELS,
    Activity,
    ActivityStatus,
    Agreement,
    Area,
    Citation,
    Organisation,
    OrganisationKind,
    Participation,
    Person,
    Publication,
    Region,
    Role,
    Signatory,
    Source,
)

#: Django 6.0 makes https the scheme assumed for a typed address; assume it already.
HTTPS_URLS = {models.URLField: {"assume_scheme": "https"}}


def names(organisations):
    return ", ".join(organisation.short_name for organisation in organisations)


class CitationInline(admin.TabularInline):
    """The citations of one record; Citation has one foreign key to each kind of record."""

    model = Citation
    fields = ["source", "quote", "note"]
    autocomplete_fields = ["source"]
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 3})}}
    extra = 0


class ParticipationInline(admin.TabularInline):
    model = Participation
    fields = ["organisation", "role"]
    autocomplete_fields = ["organisation"]
    extra = 0


class SignatoryInline(admin.TabularInline):
    model = Signatory
    fields = ["person", "title", "organisation"]
    autocomplete_fields = ["person", "organisation"]
    extra = 0


def change_link(organisation):
    """A link to `organisation`'s admin change page, in a new tab to keep the form."""
    url = reverse("admin:cooperation_organisation_change", args=[organisation.pk])
    return format_html('<a href="{}" target="_blank">{}</a>', url, organisation_label(organisation))


def organisation_label(organisation):
    """Name, acronym and kind: "European Union Agency for Asylum (EUAA), EU agency"."""
    kind = OrganisationKind(organisation.kind).label
    if organisation.acronym:
        return f"{organisation.name} ({organisation.acronym}), {kind}"
    return f"{organisation.name}, {kind}"


class OrganisationForm(forms.ModelForm):
    """
    Refuses a name that another organisation has, capitals aside, and asks for
    confirmation before saving a name or acronym that resembles another's.
    """

    different_organisation = forms.BooleanField(
        label="This is a different organisation",
        required=False,
        widget=forms.HiddenInput,
        help_text="Tick, then save again, to keep it beside the organisations named above.",
    )

    def clean(self):
        cleaned_data = super().clean()
        name = cleaned_data.get("name")
        renamed = {"name", "acronym"} & set(self.changed_data)
        if not name or not (self.instance.pk is None or renamed):
            return cleaned_data
        others = Organisation.objects.resembling(name, cleaned_data.get("acronym", ""))
        others = list(others.exclude(pk=self.instance.pk))
        same_name = [other for other in others if other.name.lower() == name.lower()]
        if same_name:
            self.add_error(
                "name",
                format_html(
                    "{} already has this name, capitals aside. Edit that organisation instead.",
                    change_link(same_name[0]),
                ),
            )
        elif others and not cleaned_data.get("different_organisation"):
            field = self.fields["different_organisation"]
            field.widget = forms.CheckboxInput()
            self.add_error(
                "different_organisation",
                format_html(
                    "Its name or acronym resembles that of {}. Check that it is not the same "
                    "organisation.",
                    format_html_join(", ", "{}", ((change_link(other),) for other in others)),
                ),
            )
        return cleaned_data


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    form = OrganisationForm
    list_display = ["name", "acronym", "kind", "iati_type", "parent", "country"]
    list_filter = ["kind", ("parent", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["parent"]
    search_fields = ["name", "acronym", "slug"]
    fields = [
        "name",
        "acronym",
        "different_organisation",
        "slug",
        "kind",
        "parent",
        "city",
        "country",
        "website",
        "description",
    ]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["parent"]
    formfield_overrides = HTTPS_URLS
    inlines = [CitationInline]

    @admin.display(description="IATI type")
    def iati_type(self, organisation):
        return organisation.iati_type

    def autocomplete_label(self, organisation):
        return organisation_label(organisation)


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ["name", "kind"]
    list_filter = ["kind"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [CitationInline]


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [CitationInline]


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "email", "telephone"]
    list_filter = [("organisation", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["organisation"]
    search_fields = ["name", "slug", "email", "organisation__name", "organisation__acronym"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["organisation"]
    inlines = [CitationInline]


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "signed_on", "party_names", "country"]
    list_filter = ["kind", ("parties", admin.RelatedOnlyFieldListFilter), "areas"]
    date_hierarchy = "signed_on"
    search_fields = ["title", "slug", "summary", "parties__name", "parties__acronym"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["parties", "areas", "supersedes"]
    inlines = [SignatoryInline, CitationInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("parties")

    @admin.display(description="parties")
    def party_names(self, agreement):
        return names(agreement.parties.all())


@admin.register(Signatory)
class SignatoryAdmin(admin.ModelAdmin):
    list_display = ["person", "title", "organisation", "agreement"]
    list_filter = [("organisation", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["person", "organisation", "agreement"]
    search_fields = ["person__name", "title", "organisation__name", "agreement__title"]
    autocomplete_fields = ["agreement", "person", "organisation"]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "status",
        "iati_status",
        "start_date",
        "end_date",
        "participants",
        "area_names",
        "publication",
    ]
    list_filter = ["publication", "status", "areas", "regions"]
    date_hierarchy = "start_date"
    search_fields = [
        "title",
        "slug",
        "description",
        "organisations__name",
        "organisations__acronym",
    ]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["agreement", "areas", "regions"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "description"]}),
        ("Status and dates", {"fields": ["status", ("start_date", "end_date")]}),
        ("Scope", {"fields": ["agreement", "areas", "countries", "regions"]}),
        ("Publication", {"fields": ["publication"]}),
    ]
    inlines = [ParticipationInline, CitationInline]
    actions = ["publish", "unpublish"]

    def get_queryset(self, request):
        participations = Participation.objects.select_related("organisation")
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("participations", queryset=participations), "areas")
        )

    @admin.display(description="IATI status")
    def iati_status(self, activity):
        return ActivityStatus(activity.status).iati_code

    @admin.display(description="organisations")
    def participants(self, activity):
        return ", ".join(
            f"{participation.organisation.short_name} ({participation.get_role_display().lower()})"
            for participation in activity.participations.all()
        )

    @admin.display(description="areas")
    def area_names(self, activity):
        return ", ".join(area.name for area in activity.areas.all())

    @admin.action(description="Publish selected activities", permissions=["change"])
    def publish(self, request, queryset):
        count = self.set_publication(request, queryset, Publication.PUBLISHED)
        message = ngettext("%d activity was published.", "%d activities were published.", count)
        self.message_user(request, message % count, messages.SUCCESS)

    @admin.action(description="Return selected activities to draft", permissions=["change"])
    def unpublish(self, request, queryset):
        count = self.set_publication(request, queryset, Publication.DRAFT)
        message = ngettext(
            "%d activity was returned to draft.", "%d activities were returned to draft.", count
        )
        self.message_user(request, message % count, messages.SUCCESS)

    def set_publication(self, request, queryset, publication):
        """Set `publication` where it differs, log it in each activity's history, and count."""
        activities = list(queryset.exclude(publication=publication))
        Activity.objects.filter(pk__in=[a.pk for a in activities]).update(publication=publication)
        for activity in activities:
            self.log_change(request, activity, [{"changed": {"fields": ["Publication"]}}])
        return len(activities)


@admin.register(Participation)
class ParticipationAdmin(admin.ModelAdmin):
    list_display = ["activity", "organisation", "role", "iati_role"]
    list_filter = ["role"]
    list_select_related = ["activity", "organisation"]
    search_fields = ["activity__title", "organisation__name", "organisation__acronym"]
    autocomplete_fields = ["activity", "organisation"]

    @admin.display(description="IATI role")
    def iati_role(self, participation):
        return Role(participation.role).iati_code


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["title", "publisher_names", "published_on", "country"]
    list_filter = [("publishers", admin.RelatedOnlyFieldListFilter)]
    date_hierarchy = "published_on"
    search_fields = ["title", "slug", "url", "text"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["publishers"]
    formfield_overrides = {
        **HTTPS_URLS,
        models.TextField: {
            "widget": forms.Textarea(attrs={"rows": 30, "class": "vLargeTextField"})
        },
    }

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("publishers")

    @admin.display(description="publishers")
    def publisher_names(self, source):
        return names(source.publishers.all())


class CitedModelFilter(admin.SimpleListFilter):
    title = "supports"
    parameter_name = "supports"

    def lookups(self, request, model_admin):
        return [
            (name, capfirst(Citation._meta.get_field(name).verbose_name)) for name in CITED_MODELS
        ]

    def queryset(self, request, queryset):
        if self.value() in CITED_MODELS:
            return queryset.filter(**{f"{self.value()}__isnull": False})
        return queryset


@admin.register(Citation)
class CitationAdmin(admin.ModelAdmin):
    list_display = ["__str__", "supports", "note"]
    list_filter = ["source", CitedModelFilter]
    list_select_related = ["source", *CITED_MODELS]
    search_fields = ["quote", "note", "source__title"]
    autocomplete_fields = ["source", *CITED_MODELS]
    fieldsets = [
        (None, {"fields": ["source", "quote", "note"]}),
        ("Supports (choose exactly one)", {"fields": CITED_MODELS}),
    ]

    def get_queryset(self, request):
        # A source's full text is long and the list never shows it.
        return super().get_queryset(request).defer("source__text")

    @admin.display(description="supports")
    def supports(self, citation):
        return f"{capfirst(citation.cited_model)}: {citation.cited}"
