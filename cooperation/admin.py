from functools import partial

import reversion
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.admin.widgets import AutocompleteMixin, AutocompleteSelect
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Prefetch
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator, capfirst
from reversion.admin import VersionAdmin
from reversion.models import Version

from . import citing, history, search
from .citing import LAST_SOURCE, OffersPassage, supported
from .dates import PreciseDate, PreciseDateField, Precision, shown
from .imports import (
    ActivityResource,
    AgreementResource,
    AreaResource,
    ExportAdmin,
    ImportExportAdmin,
    OrganisationResource,
)
from .models import (
    CITED_MODELS,
    HISTORY_FOLLOWS,
    Activity,
    ActivityStatus,
    Agreement,
    Area,
    Citation,
    Country,
    FormerName,
    FormerSlug,
    Organisation,
    OrganisationKind,
    Participation,
    Person,
    Publication,
    Region,
    Role,
    SeedLoad,
    Signatory,
    Source,
    quote_found,
)
from .paging import BoundedPaginator
from .roles import PUBLISH

#: Django 6.0 makes https the scheme assumed for a typed address; assume it already.
HTTPS_URLS = {models.URLField: {"assume_scheme": "https"}}


def searched(queryset, search_term, find):
    """
    The admin's search through the full-text index (see search.py), or the exact slug:
    no LIKE over every row, no join and so no DISTINCT.
    """
    text = search_term.strip()
    if not text:
        return queryset
    return find(queryset, text) | queryset.filter(slug=text)


class FewRecordsFilter(admin.RelatedOnlyFieldListFilter):
    """
    A filter by related record (a party, a publisher) that lists its records only when they
    are at most LIMIT; beyond that only the one chosen (a link from elsewhere may choose
    one), and staff find the others by searching: thousands of links in the sidebar help
    nobody and weigh the page down.
    """

    LIMIT = 50

    def field_choices(self, field, request, model_admin):
        choices = super().field_choices(field, request, model_admin)
        if len(choices) <= self.LIMIT:
            return choices
        chosen = self.lookup_val or []
        return [(pk, label) for pk, label in choices if str(pk) in chosen]


def precise_date(field, description):
    """A list column of the date `field` as precisely as it is known, sorted by the date."""

    @admin.display(description=description, ordering=field)
    def column(record):
        return shown(getattr(record, field), getattr(record, f"{field}_precision")) or None

    return column


start_column = precise_date("start_date", "start date")
end_column = precise_date("end_date", "end date")
signed_column = precise_date("signed_on", "date signed")


@admin.display(description="country")
def country_name(record):
    """
    A record's country by name: Django's display of a CountryField builds the list of all
    countries anew for each row, most of a changelist's time.
    """
    return record.country.name or None


def names(organisations):
    return ", ".join(organisation.short_name for organisation in organisations)


class PreciseDatesForm(forms.ModelForm):
    """A form whose dates are typed as the source writes them, with their precision."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, edge in self.precise_dates.items():
            field = self.fields[name]
            self.fields[name] = PreciseDateField(
                edge=edge, required=field.required, label=field.label
            )
            value = getattr(self.instance, name)
            if value:
                precision = getattr(self.instance, f"{name}_precision")
                self.initial[name] = PreciseDate.of(value, precision)

    @property
    def precise_dates(self):
        """The date fields of this form typed with their precision (see dates.py)."""
        dates = getattr(self._meta.model, "PRECISE_DATES", {})
        return {name: edge for name, edge in dates.items() if name in self.fields}

    def clean(self):
        cleaned_data = super().clean()
        for name in self.precise_dates:
            value = cleaned_data.get(name)
            precision = getattr(value, "precision", Precision.DAY)
            setattr(self.instance, f"{name}_precision", precision)
        return cleaned_data


class CuratedForm(PreciseDatesForm):
    """
    A record's form that refuses to overwrite changes saved by someone else since it was
    opened: it carries the version it was opened at and compares it when it is saved.
    """

    opened_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            if hasattr(self.instance, "opened_version"):
                opened = self.instance.opened_version
            else:
                opened = history.latest_version_id(self.instance)
            self.fields["opened_version"].initial = opened

    def clean(self):
        cleaned_data = super().clean()
        if self.instance.pk:
            history.lock(self.instance)
            latest = history.latest_version_id(self.instance)
            if cleaned_data.get("opened_version") != latest:
                changes = history.changes_since(self.instance, cleaned_data.get("opened_version"))
                # The next save goes through: its author has now seen what changed.
                self.data = self.data.copy()
                self.data[self.add_prefix("opened_version")] = latest
                raise ValidationError(self.conflict_message(latest, changes))
        return cleaned_data

    def conflict_message(self, latest, changes):
        version = Version.objects.select_related("revision__user").get(pk=latest)
        who = version.revision.user or "someone"
        listed = "; ".join(str(change) for change in changes) or "it was saved again"
        return (
            f"{who} changed this {self.instance._meta.verbose_name} after you opened it "
            f"({listed}). Your changes are still in the form and nothing was saved: check "
            "them against theirs, then save again to keep yours."
        )


class MarksRecordKinds:
    """
    Names on each autocomplete of a kind of record a citation may support that kind
    (`data-kind`): on a form opened from a source, citing.js offers there the records the
    source is cited for, each chosen with one click.
    """

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        model = getattr(db_field, "related_model", None)
        if formfield is not None and model is not None:
            widget = getattr(formfield.widget, "widget", formfield.widget)
            if isinstance(widget, AutocompleteMixin) and model._meta.model_name in CITED_MODELS:
                widget.attrs["data-kind"] = model._meta.model_name
        return formfield


class CuratedAdmin(MarksRecordKinds, ExportAdmin, VersionAdmin):
    """
    The admin of a curated record: every save is a version in its history, the history
    shows what each version changed, and a Publisher may revert to an earlier version. Its
    list exports (imports.py).
    """

    form = CuratedForm
    # Lists count at most paging.COUNT_LIMIT rows, and never the whole table beside them.
    paginator = BoundedPaginator
    show_full_result_count = False
    object_history_template = "admin/cooperation/object_history.html"
    change_list_template = "admin/cooperation/change_list.html"
    history_latest_first = True

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if getattr(inline, "remembers_source", False):
            # The source the page was opened from (?source=ID, kept by the form's address),
            # else the one last cited.
            source = citing.source_from(request)
            last = source.pk if source else request.session.get(LAST_SOURCE)
            kwargs["form_kwargs"] = {"last_source": last}
        if getattr(obj, "pk", None) is None and hasattr(inline, "initial_rows"):
            kwargs["initial"] = inline.initial_rows(request)
        return kwargs

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        # An address may prefill a link (?agreement=ID, ?areas=1,2); a malformed id, none.
        for name, value in list(initial.items()):
            field = next((f for f in self.opts.get_fields() if f.name == name), None)
            if field is not None and field.is_relation:
                values = value if isinstance(value, list) else [value]
                if any(citing.key(each) is None for each in values):
                    del initial[name]
        return initial

    def response_add(self, request, obj, post_url_continue=None):
        response = super().response_add(request, obj, post_url_continue)
        if response.status_code != 302:  # A popup's answer.
            return response
        # "Save and add another" keeps the page's address (?source=, ?agreement=) itself.
        if "_save" in request.POST and (source := citing.source_from(request)):
            # Opened from a source to cite it: back to reading it.
            response["Location"] = reverse("admin:cooperation_source_cite", args=[source.pk])
        return response

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is Citation:
            saved = formset.new_objects + [row for row, _ in formset.changed_objects]
            if saved:
                request.session[LAST_SOURCE] = saved[-1].source_id

    def get_object(self, request, object_id, from_field=None):
        # The version first, then the record: if someone saves in between, the form looks
        # stale and is refused, never fresh with old values. Read after, a concurrent save
        # could give old values the newest version and let them overwrite the new ones.
        if from_field:
            return super().get_object(request, object_id, from_field)
        opened = history.latest_version_id(self.model(pk=object_id))
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj.opened_version = opened
        return obj

    def log_addition(self, request, obj, message):
        # The history shows each version's differences; keep the comment for what they
        # cannot show (published, reverted, deleted).
        return admin.ModelAdmin.log_addition(self, request, obj, message)

    def log_change(self, request, obj, message):
        return admin.ModelAdmin.log_change(self, request, obj, message)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if "opened_version" in flatten_fieldsets(fieldsets):
            return fieldsets
        (name, options), *rest = fieldsets
        return [(name, {**options, "fields": [*options["fields"], "opened_version"]}), *rest]

    def has_revert_permission(self, request):
        """Reverting may change published records and delete rows: a Publisher's work."""
        opts = self.opts
        return request.user.has_perms(
            [
                f"{opts.app_label}.{get_permission_codename(action, opts)}"
                for action in ["change", "delete"]
            ]
            + [f"cooperation.{codename}" for codename in PUBLISH]
        )

    def revision_view(self, request, object_id, version_id, extra_context=None):
        if not self.has_revert_permission(request):
            raise PermissionDenied
        return super().revision_view(request, object_id, version_id, extra_context)

    def recover_view(self, request, version_id, extra_context=None):
        if not self.has_revert_permission(request):
            raise PermissionDenied
        return super().recover_view(request, version_id, extra_context)

    def recoverlist_view(self, request, extra_context=None):
        if not self.has_revert_permission(request):
            raise PermissionDenied
        return super().recoverlist_view(request, extra_context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            "can_recover": self.has_revert_permission(request),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        record = self.get_object(request, object_id)
        entries = []
        if record is not None:
            entries = history.entries(history.versions_of(record).order_by("-pk"))
        extra_context = {
            "entries": entries,
            "can_revert": self.has_revert_permission(request),
            **(extra_context or {}),
        }
        return super().history_view(request, object_id, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        with self.create_revision(request):
            return super().delete_view(request, object_id, extra_context)

    def delete_queryset(self, request, queryset):
        for record in queryset:
            self.delete_model(request, record)

    def delete_model(self, request, obj):
        """Delete, and store a version of each record the deleted row was part of."""
        records = [
            getattr(obj, name)
            for name in HISTORY_FOLLOWS[type(obj)]
            if self.opts.get_field(name).many_to_one and getattr(obj, name) is not None
        ]
        super().delete_model(request, obj)
        for record in records:
            reversion.add_to_revision(record)
        reversion.set_comment(f"Deleted {self.opts.verbose_name} “{obj}”.")


class ChangedSincePublishedFilter(admin.SimpleListFilter):
    title = "changed since published"
    parameter_name = "changed_since_published"

    def lookups(self, request, model_admin):
        return [("yes", "Yes: review the changes")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.changed_since_published()
        return queryset


class PublishableAdmin(CuratedAdmin):
    """
    The admin of a record that is drafted and then published. Anyone who edits may save a
    draft or change a published record; publishing, returning to draft and deleting a
    published record take the model's publish permission, and publishing takes a ready record.
    """

    change_form_template = "admin/cooperation/publishable_change_form.html"
    actions = ["publish", "return_to_draft"]

    def has_publish_permission(self, request):
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.publish_{opts.model_name}")

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_published and not self.has_publish_permission(request):
            return False
        return super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        if not self.has_publish_permission(request) and any(obj.is_published for obj in objs):
            perms_needed.add(f"published {self.opts.verbose_name_plural}")
        return deleted, counts, perms_needed, protected

    def get_readonly_fields(self, request, obj=None):
        return [
            *super().get_readonly_fields(request, obj),
            "publication",
            "published_at",
            "changed_at",
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_publish"] = self.has_publish_permission(request)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        record = form.instance
        if "_publish" in request.POST and self.has_publish_permission(request):
            self.publish_one(request, record, refused="was saved as a draft, not published")
        elif "_return_to_draft" in request.POST and self.has_publish_permission(request):
            record.return_to_draft()
            reversion.set_comment("Returned to draft.")
        elif record.is_published and (problems := record.publication_problems()):
            self.message_user(
                request,
                f"This published {self.opts.verbose_name} no longer meets the publishing "
                f"rules: {'; '.join(problems)}.",
                messages.WARNING,
            )

    def publish_one(self, request, record, refused="was not published"):
        if problems := record.publish():
            self.message_user(
                request, f"“{record}” {refused}: {'; '.join(problems)}.", messages.WARNING
            )
        else:
            reversion.set_comment("Published.")
        return not problems

    def counted(self, records, singular, plural):
        """A message such as "3 activities were published." for `records`."""
        count = len(records)
        if count == 1:
            return f"1 {self.opts.verbose_name} {singular}."
        return f"{count} {self.opts.verbose_name_plural} {plural}."

    @admin.action(description="Publish selected %(verbose_name_plural)s", permissions=["publish"])
    def publish(self, request, queryset):
        published = [
            record
            for record in queryset.exclude(publication=Publication.PUBLISHED)
            if self.publish_one(request, record)
        ]
        if published:
            reversion.set_comment("Published.")
            self.message_user(
                request,
                self.counted(published, "was published", "were published"),
                messages.SUCCESS,
            )

    @admin.action(
        description="Return selected %(verbose_name_plural)s to draft", permissions=["publish"]
    )
    def return_to_draft(self, request, queryset):
        records = list(queryset.filter(publication=Publication.PUBLISHED))
        for record in records:
            record.return_to_draft()
        reversion.set_comment("Returned to draft.")
        self.message_user(
            request,
            self.counted(records, "was returned to draft", "were returned to draft"),
            messages.SUCCESS,
        )


class ChosenAutocompleteSelect(AutocompleteSelect):
    """
    An autocomplete told the record already chosen (`chosen`), which it names without
    asking the database again: Django's asks once for each row of an inline.
    """

    chosen = None

    def optgroups(self, name, value, attr=None):
        chosen = self.chosen
        if chosen is None or [str(each) for each in value if each] != [str(chosen.pk)]:
            return super().optgroups(name, value, attr)
        label = self.choices.field.label_from_instance(chosen)
        options = [] if self.is_required else [self.create_option(name, "", "", False, 0)]
        options.append(self.create_option(name, chosen.pk, label, True, len(options)))
        return [(None, options, 0)]


class ChosenForm(forms.ModelForm):
    """An inline row's form that hands its autocompletes the records its row links to."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            widget = getattr(field.widget, "widget", field.widget)
            if isinstance(widget, ChosenAutocompleteSelect) and self.instance.pk:
                widget.chosen = getattr(self.instance, name)


class ChosenInline(MarksRecordKinds, admin.TabularInline):
    """
    An inline whose autocompletes name each row's chosen record from the row itself, read
    with the rows: a record's form costs the same queries however many rows it has.
    """

    form = ChosenForm

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        chosen = self.get_autocomplete_fields(request)
        return queryset.select_related(*chosen) if chosen else queryset

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = ChosenAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class CitationForm(OffersPassage, ChosenForm):
    """A citation row whose source, when new, is the one its editor last cited."""

    def __init__(self, *args, last_source=None, **kwargs):
        super().__init__(*args, **kwargs)
        if last_source and not self.instance.pk:
            self.initial.setdefault("source", last_source)


class CitationInline(ChosenInline):
    """The citations of one record; Citation has one foreign key to each kind of record."""

    model = Citation
    form = CitationForm
    fields = ["source", "quote", "note"]
    autocomplete_fields = ["source"]
    # Tall enough to read a long sentence of the source without scrolling.
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 5})}}
    extra = 0
    remembers_source = True
    # Above the rows, the text of the source the page was opened from, to cite by selecting.
    template = "admin/cooperation/citation_inline.html"

    class Media:
        js = ["cooperation/citing.js"]
        css = {"all": ["cooperation/citing.css"]}

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.citing_source = source = citing.source_from(request)
        cited = obj.citations.filter(source=source) if obj and source else []
        formset.citing_text = citing.marked_text(source.text, cited) if source else ""
        formset.citing_records = citing.records_of(source) if source else {}
        return formset

    def get_queryset(self, request):
        return super().get_queryset(request).defer("source__text")  # Kilobytes, not shown.


class SourceCitationForm(OffersPassage, forms.ModelForm):
    def validate_unique(self):
        super().validate_unique()
        # The record cited is not in this form, so model validation skipped the constraints
        # on it: a quote changed here may repeat one of that record's other citations.
        if not self.errors and "quote" in self.changed_data:
            try:
                self.instance.validate_constraints()
            except ValidationError as error:
                self._update_errors(error)


class SourceCitationFormSet(forms.BaseInlineFormSet):
    """
    The citations of the source being saved, with their quotes as this save leaves them.
    The save is refused while the text no longer holds one of those quotes, whether the
    text or the quote changed, and the error lists each such citation.
    """

    def clean(self):
        super().clean()
        source = self.instance
        if source.pk is None:
            return
        forms_by_pk = {form.instance.pk: form for form in self.initial_forms}
        lost = []
        # Every citation in the database, so that one added since the page was opened counts.
        for citation in source.citations.select_related(*CITED_MODELS).order_by("pk"):
            form = forms_by_pk.get(citation.pk)
            if form is not None and self._should_delete_form(form):
                continue
            quote = citation.quote if form is None else form.instance.quote
            if not quote_found(quote, source.text):
                lost.append(citation)
        if lost:
            # One error a line: what to do, then each citation.
            raise ValidationError(
                [
                    ValidationError(
                        f"The full text no longer holds the quotes of {len(lost)} of its "
                        "citations, listed here. Correct each quote below or delete the "
                        "citation, or keep the text as it was.",
                        code="citations_lost",
                    ),
                    *(
                        ValidationError(
                            format_html(
                                '<a href="{}" target="_blank">{}</a>: “{}”',
                                reverse("admin:cooperation_citation_change", args=[citation.pk]),
                                supported(citation),
                                Truncator(citation.quote).chars(80),
                            ),
                            code="citation_lost",
                        )
                        for citation in lost
                    ),
                ]
            )


class SourceCitationInline(CitationInline):
    """
    A source's citations, to correct their quotes in the same save as the text. Citations
    are added from the record they support.
    """

    remembers_source = False  # Its rows are this source's: nothing to remember.
    template = "admin/edit_inline/tabular.html"
    form = SourceCitationForm
    formset = SourceCitationFormSet
    fields = ["supports", "quote", "note"]
    readonly_fields = ["supports"]
    autocomplete_fields = []

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*CITED_MODELS)

    @admin.display(description="supports")
    def supports(self, citation):
        return supported(citation)


class PrefilledForm(ChosenForm):
    """A new row that was filled in for its editor: it is saved unless they remove it."""

    def has_changed(self):
        return super().has_changed() or (self.instance.pk is None and bool(self.initial))


class ParticipationInline(ChosenInline):
    """An activity's participants; a new activity under an agreement starts with its parties."""

    model = Participation
    form = PrefilledForm
    fields = ["organisation", "role"]
    autocomplete_fields = ["organisation"]
    extra = 0

    def initial_rows(self, request):
        agreement = citing.key(request.GET.get("agreement", ""))
        if agreement is None:
            return []
        parties = Organisation.objects.filter(agreements=agreement).order_by("name")
        return [{"organisation": pk} for pk in parties.values_list("pk", flat=True)]

    def get_extra(self, request, obj=None, **kwargs):
        return self.extra if obj else len(self.initial_rows(request))


class SignatoryForm(ChosenForm):
    """A signatory who signs, unless told otherwise, for the person's own organisation."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].required = False
        self.fields["organisation"].help_text = "Blank: the person's organisation."

    def clean(self):
        cleaned_data = super().clean()
        person = cleaned_data.get("person")
        if cleaned_data.get("organisation") is None and person is not None:
            if person.organisation is None:
                self.add_error("organisation", "Choose the party this person signed for.")
            else:
                cleaned_data["organisation"] = person.organisation
        return cleaned_data


class OptionalRowsFormSet(forms.BaseInlineFormSet):
    """
    Rows that a save may leave out altogether: without their management form (a script, or
    a form built before the rows were offered) the record's rows stay as they are.
    """

    def __init__(self, data=None, *args, prefix=None, **kwargs):
        prefix = prefix or self.get_default_prefix()
        if data is not None and f"{prefix}-TOTAL_FORMS" not in data:
            data = data.copy()
            data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
        super().__init__(data, *args, prefix=prefix, **kwargs)


class PersonInline(admin.TabularInline):
    """An organisation's people, to enter someone named with the organisation in one save."""

    model = Person
    formset = OptionalRowsFormSet
    fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    extra = 0
    show_change_link = True


class SignatoryInline(ChosenInline):
    model = Signatory
    form = SignatoryForm
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


class OrganisationForm(CuratedForm):
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

    def clean_slug(self):
        slug = self.cleaned_data["slug"]
        taken = FormerSlug.objects.filter(slug=slug).exclude(organisation=self.instance.pk)
        former = taken.select_related("organisation").first()
        if former:
            raise ValidationError(
                format_html(
                    "{} had this slug before, and its old address leads there.",
                    change_link(former.organisation),
                )
            )
        return slug

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


class FormerNameFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        since = self.instance.name_since
        for form in self.forms:
            took_effect = form.cleaned_data.get("took_effect")
            if (
                since
                and took_effect
                and took_effect >= since
                and not form.cleaned_data.get("DELETE")
            ):
                form.add_error(
                    "took_effect",
                    "A former name took effect before the current one "
                    f"({self.instance.name_since_shown}).",
                )


class FormerNameInline(admin.TabularInline):
    """The names an organisation had before; its current name is on the form above."""

    model = FormerName
    form = PreciseDatesForm
    formset = FormerNameFormSet
    fields = ["name", "acronym", "took_effect"]
    extra = 0
    verbose_name_plural = "former names (the source that states a name or its date is cited below)"


class FormerSlugFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        organisation = self.instance
        before = Organisation.objects.filter(pk=organisation.pk).values_list("slug", flat=True)
        before = before.first()
        for form in self.forms:
            slug = form.cleaned_data.get("slug")
            if not slug or form.cleaned_data.get("DELETE"):
                continue
            if slug == organisation.slug:
                form.add_error("slug", "This is the organisation's slug now.")
            elif slug == before:
                form.add_error(
                    "slug", "The slug being replaced is kept by itself; remove this row."
                )
            else:
                other = Organisation.objects.exclude(pk=organisation.pk).filter(slug=slug).first()
                if other:
                    form.add_error("slug", format_html("{} has this slug now.", change_link(other)))


class FormerSlugInline(admin.TabularInline):
    """Slugs the organisation had before: recorded when its slug changes."""

    model = FormerSlug
    formset = FormerSlugFormSet
    fields = ["slug"]
    extra = 0


@admin.register(Organisation)
class OrganisationAdmin(ImportExportAdmin, CuratedAdmin):
    resource_classes = [OrganisationResource]
    form = OrganisationForm
    list_display = ["name", "acronym", "kind", "iati_type", "parent", country_name]
    list_filter = ["kind", ("parent", FewRecordsFilter)]
    list_select_related = ["parent"]
    search_fields = ["name", "acronym", "slug"]
    search_help_text = "Whole words of the name or acronym; the last may be cut short."
    fields = [
        "name",
        "acronym",
        "name_since",
        "different_organisation",
        "slug",
        "kind",
        "parent",
        "city",
        "country",
        "website",
        "description",
        "iati_identifier",
    ]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["parent"]
    formfield_overrides = HTTPS_URLS
    inlines = [PersonInline, FormerNameInline, FormerSlugInline, CitationInline]

    @admin.display(description="IATI type")
    def iati_type(self, organisation):
        return organisation.iati_type

    def get_search_results(self, request, queryset, search_term):
        return searched(queryset, search_term, search.organisations), False

    def autocomplete_label(self, organisation):
        return organisation_label(organisation)


@admin.register(Area)
class AreaAdmin(ImportExportAdmin, CuratedAdmin):
    resource_classes = [AreaResource]
    list_display = ["name", "kind"]
    list_filter = ["kind"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [CitationInline]


@admin.register(Region)
class RegionAdmin(CuratedAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [CitationInline]


class ViewOnlyAdmin(ExportAdmin, admin.ModelAdmin):
    """Rows that code writes and staff only read."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Country)
class CountryAdmin(ViewOnlyAdmin):
    """ISO 3166 countries, loaded by a migration: staff choose them, nobody edits them."""

    list_display = ["name", "code"]
    search_fields = ["name", "code"]


@admin.register(Person)
class PersonAdmin(CuratedAdmin):
    list_display = ["name", "organisation", "email", "telephone"]
    list_filter = [("organisation", FewRecordsFilter)]
    list_select_related = ["organisation"]
    search_fields = ["name", "slug", "email", "organisation__name", "organisation__acronym"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["organisation"]
    inlines = [CitationInline]


@admin.register(Agreement)
class AgreementAdmin(ImportExportAdmin, PublishableAdmin):
    resource_classes = [AgreementResource]
    list_display = ["title", "kind", signed_column, "party_names", country_name, "publication"]
    list_filter = [
        "publication",
        ChangedSincePublishedFilter,
        "kind",
        ("parties", FewRecordsFilter),
        "areas",
    ]
    date_hierarchy = "signed_on"
    search_fields = ["title", "slug", "summary", "parties__name", "parties__acronym"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["parties", "areas", "supersedes"]
    inlines = [SignatoryInline, CitationInline]
    change_form_template = "admin/cooperation/agreement/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("parties")

    def response_add(self, request, obj, post_url_continue=None):
        return self.then_activity(
            request, obj, super().response_add(request, obj, post_url_continue)
        )

    def response_change(self, request, obj):
        return self.then_activity(request, obj, super().response_change(request, obj))

    def then_activity(self, request, agreement, response):
        """After "Save and add an activity under it", the form of an activity under it."""
        if "_addactivity" in request.POST and response.status_code == 302:
            source = citing.source_from(request) or getattr(
                agreement.citations.first(), "source", None
            )
            cited = f"&source={source.pk}" if source else ""
            url = reverse("admin:cooperation_activity_add")
            response["Location"] = f"{url}?agreement={agreement.pk}{cited}"
        return response

    @admin.display(description="parties")
    def party_names(self, agreement):
        return names(agreement.parties.all())

    def save_form(self, request, form, change):
        agreement = super().save_form(request, form, change)
        # The signatory rows are checked against the parties being saved, not the old ones.
        agreement.submitted_parties = form.cleaned_data["parties"]
        return agreement


@admin.register(Signatory)
class SignatoryAdmin(CuratedAdmin):
    list_display = ["person", "title", "organisation", "agreement"]
    list_filter = [("organisation", FewRecordsFilter)]
    list_select_related = ["person", "organisation", "agreement"]
    search_fields = ["person__name", "title", "organisation__name", "agreement__title"]
    autocomplete_fields = ["agreement", "person", "organisation"]


@admin.register(Activity)
class ActivityAdmin(ImportExportAdmin, PublishableAdmin):
    resource_classes = [ActivityResource]
    list_display = [
        "title",
        "status",
        "iati_status",
        start_column,
        end_column,
        "participants",
        "area_names",
        "publication",
    ]
    list_filter = ["publication", ChangedSincePublishedFilter, "status", "areas", "regions"]
    date_hierarchy = "start_date"
    # Sorted only where an index reads the order: by start date, then key.
    ordering = ["-start_date", "-pk"]
    sortable_by = [start_column]
    search_fields = ["title", "slug", "description"]
    search_help_text = (
        "Whole words of the title, the description or a participant's name or acronym; "
        "the last may be cut short. Or the exact slug."
    )
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["agreement", "areas", "countries", "regions"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "description"]}),
        ("Status and dates", {"fields": ["status", ("start_date", "end_date")]}),
        ("Scope", {"fields": ["agreement", "areas", "countries", "regions"]}),
        ("Publication", {"fields": ["publication", "published_at", "changed_at"]}),
    ]
    inlines = [ParticipationInline, CitationInline]

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

    def get_search_results(self, request, queryset, search_term):
        return searched(queryset, search_term, search.activities), False

    @admin.display(description="organisations")
    def participants(self, activity):
        return ", ".join(
            f"{participation.organisation.short_name} ({participation.get_role_display().lower()})"
            for participation in activity.participations.all()
        )

    @admin.display(description="areas")
    def area_names(self, activity):
        return ", ".join(area.name for area in activity.areas.all())


@admin.register(Participation)
class ParticipationAdmin(CuratedAdmin):
    list_display = ["activity", "organisation", "role", "iati_role"]
    list_filter = ["role"]
    list_select_related = ["activity", "organisation"]
    search_fields = ["activity__title", "organisation__name", "organisation__acronym"]
    autocomplete_fields = ["activity", "organisation"]

    @admin.display(description="IATI role")
    def iati_role(self, participation):
        return Role(participation.role).iati_code


@admin.register(Source)
class SourceAdmin(CuratedAdmin):
    list_display = ["title", "publisher_names", "published_on", country_name, "citation_link"]
    list_filter = [("publishers", FewRecordsFilter)]
    date_hierarchy = "published_on"
    search_fields = ["title", "slug", "url", "text"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["publishers"]
    inlines = [SourceCitationInline]
    formfield_overrides = {
        **HTTPS_URLS,
        models.TextField: {
            "widget": forms.Textarea(attrs={"rows": 30, "class": "vLargeTextField"})
        },
    }

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("publishers")

    def response_add(self, request, obj, post_url_continue=None):
        return self.then_cite(request, obj, super().response_add(request, obj, post_url_continue))

    def response_change(self, request, obj):
        return self.then_cite(request, obj, super().response_change(request, obj))

    def then_cite(self, request, source, response):
        """After "Save and read to cite", the source's page to read and cite."""
        if "_cite" in request.POST and response.status_code == 302:
            response["Location"] = reverse("admin:cooperation_source_cite", args=[source.pk])
        return response

    def get_urls(self):
        views = [("cite", citing.cite_view), ("records", citing.records_view)]
        return [
            path(
                f"<int:object_id>/{name}/",
                self.admin_site.admin_view(partial(view, model_admin=self)),
                name=f"cooperation_source_{name}",
            )
            for name, view in views
        ] + super().get_urls()

    @admin.display(description="publishers")
    def publisher_names(self, source):
        return names(source.publishers.all())

    @admin.display(description="citations")
    def citation_link(self, source):
        url = reverse("admin:cooperation_citation_changelist")
        return format_html(
            '<a href="{}?source__id__exact={}">Its citations</a> · <a href="{}">Read and cite</a>',
            url,
            source.pk,
            reverse("admin:cooperation_source_cite", args=[source.pk]),
        )


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


class CitationAdminForm(OffersPassage, CuratedForm):
    pass


@admin.register(Citation)
class CitationAdmin(CuratedAdmin):
    form = CitationAdminForm
    list_display = ["__str__", "supports", "note"]
    # A list filter would list every source; each source's row links to its citations.
    list_filter = [CitedModelFilter]
    ordering = ["-pk"]
    sortable_by = []
    list_select_related = ["source", *CITED_MODELS]
    search_fields = ["quote", "note", "source__title"]
    autocomplete_fields = ["source", *CITED_MODELS]
    fieldsets = [
        (None, {"fields": ["source", "quote", "note"]}),
        ("Supports (choose exactly one)", {"fields": CITED_MODELS}),
    ]

    class Media:
        js = ["cooperation/citing.js"]

    def lookup_allowed(self, lookup, value, request=None):
        return lookup == "source__id__exact" or super().lookup_allowed(lookup, value, request)

    def get_queryset(self, request):
        # A source's full text is long and the list never shows it.
        return super().get_queryset(request).defer("source__text")

    @admin.display(description="supports")
    def supports(self, citation):
        return supported(citation)


@admin.register(SeedLoad)
class SeedLoadAdmin(ViewOnlyAdmin):
    """The seed versions this database has loaded: `manage.py load_seed` writes, staff read."""

    list_display = ["version", "loaded_at", "reset", "row_count"]
    list_filter = ["reset"]
    date_hierarchy = "loaded_at"
    search_fields = ["version"]
    fields = ["version", "loaded_at", "reset", "row_count", "natural_keys"]
    # Not even deleted: without its record, the next load would bring back the rows staff
    # deleted.
    readonly_fields = fields

    @admin.display(description="rows")
    def row_count(self, seed_load):
        return sum(len(keys) for keys in seed_load.natural_keys.values())
