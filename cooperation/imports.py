"""
Imports and exports of the admin's lists, in CSV and XLSX (django-import-export).

Every list exports what it shows, filters and search applied; organisations, areas,
agreements and activities also import, with a preview. A row names its record and the
records it links to by their slugs (countries by ISO code), never by database ids, so a
file moves between databases; an activity's participations are one column of
`organisation:role` pairs. An import writes nothing until its preview is confirmed, and
nothing at all if one row fails; what it writes is one version in each record's history.
"""

import datetime
import json

import reversion
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from import_export import fields, resources, widgets
from import_export.admin import ExportMixin, ImportExportMixin
from import_export.forms import ConfirmImportForm as LibraryConfirmImportForm
from import_export.forms import ExportForm
from import_export.forms import ImportForm as LibraryImportForm
from import_export.instance_loaders import BaseInstanceLoader
from import_export.utils import get_related_model

from . import dates, history
from .models import (
    Activity,
    Agreement,
    Area,
    Country,
    Organisation,
    Participation,
    Role,
    unify_line_endings,
)
from .spreadsheets import FORMATS, UnreadableFile, cell_text

#: The largest file an import reads. With spreadsheets.MAX_ROWS, it keeps a preview within
#: the time a web request has (bench/imports.py measures it).
IMPORT_MAX_BYTES = 1024 * 1024
#: Between the records in one cell of a file: `training;border-management`.
SEPARATOR = ";"


# Widgets: how one cell becomes a value, and a value a cell.


class TextWidget(widgets.Widget):
    """Text without the spaces around it, as the admin's forms keep it; empty is ""."""

    def __init__(self, upper=False):
        self.upper = upper
        super().__init__()

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value).strip()
        return text.upper() if self.upper else text

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class ChoiceWidget(TextWidget):
    """One of a field's choices, by its stored value (`implementing`, `eu-agency`)."""

    def __init__(self, choices):
        self.values = [value for value, _ in choices]
        super().__init__()

    def clean(self, value, row=None, **kwargs):
        text = super().clean(value)
        if text and text not in self.values:
            raise ValueError(f"“{text}” is not one of {', '.join(self.values)}.")
        return text


def natural_key(record):
    return record.natural_key()[0]


def describe(model):
    return "code" if model is Country else "slug"


class NaturalKeyWidget(widgets.Widget):
    """A related record by its slug (a country by its ISO code): `iom`, `FR`."""

    def __init__(self, model):
        self.model = model
        super().__init__()

    def find(self, key):
        key = key.upper() if self.model is Country else key
        try:
            return self.model.objects.get_by_natural_key(key)
        except self.model.DoesNotExist:
            name = self.model._meta.verbose_name
            raise ValueError(f"No {name} has the {describe(self.model)} “{key}”.") from None

    def clean(self, value, row=None, **kwargs):
        key = cell_text(value).strip()
        return self.find(key) if key else None

    def render(self, value, obj=None, **kwargs):
        return natural_key(value) if value is not None else ""


class NaturalKeysWidget(NaturalKeyWidget):
    """Related records by their slugs, `;` between them: `training;border-management`."""

    def clean(self, value, row=None, **kwargs):
        found, unknown = [], []
        for key in split(value):
            try:
                found.append(self.find(key))
            except ValueError:
                unknown.append(key)
        if unknown:
            name = self.model._meta.verbose_name_plural
            listed = ", ".join(f"“{key}”" for key in unknown)
            raise ValueError(f"No {name} have the {describe(self.model)}s {listed}.")
        return found

    def render(self, value, obj=None, **kwargs):
        return self.text(related(value))

    def text(self, records):
        return SEPARATOR.join(sorted(natural_key(record) for record in records))


def related(manager):
    """The records of a related manager; none for a record not saved yet."""
    if manager is None or manager.instance.pk is None:
        return []
    return manager.all()


def split(value):
    return [part.strip() for part in cell_text(value).split(SEPARATOR) if part.strip()]


class ParticipationsWidget(widgets.Widget):
    """An activity's participations, `organisation:role` pairs: `iom:implementing;easo:funding`."""

    organisations = NaturalKeyWidget(Organisation)
    roles = ChoiceWidget(Role.choices)

    def clean(self, value, row=None, **kwargs):
        pairs, problems = [], []
        for part in split(value):
            slug, colon, role = (text.strip() for text in part.partition(":"))
            try:
                if not colon or not role:
                    raise ValueError(
                        f"“{part}” names no role: write organisation:role, such as "
                        "iom:implementing."
                    )
                pairs.append((self.organisations.find(slug), self.roles.clean(role)))
            except ValueError as error:
                problems.append(str(error))
        if problems:
            raise ValueError(" ".join(problems))
        return list(dict.fromkeys(pairs))

    def render(self, value, obj=None, **kwargs):
        return self.text((each.organisation, each.role) for each in related(value))

    def text(self, pairs):
        return SEPARATOR.join(sorted(f"{natural_key(org)}:{role}" for org, role in pairs))


class PreciseDateWidget(widgets.Widget):
    """A date as precise as the source (see dates.py): `2012`, `March 2012`, `22 January 2026`."""

    def __init__(self, edge):
        self.edge = edge
        super().__init__()

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value).strip()
        try:
            return dates.parse(text, self.edge) if text else None
        except ValidationError as error:
            raise ValueError(" ".join(error.messages)) from None


# Columns


class SlugColumn(fields.Field):
    """The slug that finds a row's record; it names a new record and never renames one."""

    def __init__(self):
        super().__init__(attribute="slug", column_name="slug", widget=TextWidget())

    def save(self, instance, row, is_m2m=False, **kwargs):
        if instance.pk is None:
            super().save(instance, row, is_m2m, **kwargs)


class PreciseDateColumn(fields.Field):
    """A date and, beside it in the record, its precision; written as it is shown."""

    def __init__(self, attribute, edge):
        super().__init__(attribute=attribute, column_name=attribute, widget=PreciseDateWidget(edge))

    def save(self, instance, row, is_m2m=False, **kwargs):
        value = self.clean(row)
        day = datetime.date(value.year, value.month, value.day) if value else None
        setattr(instance, self.attribute, day)
        precision = value.precision if value else dates.Precision.DAY
        setattr(instance, f"{self.attribute}_precision", precision)

    def export(self, instance, **kwargs):
        precision = getattr(instance, f"{self.attribute}_precision")
        return dates.shown(getattr(instance, self.attribute), precision)


class LinksColumn(fields.Field):
    """Links to other records (many-to-many, participations), written once the record is."""

    def save(self, instance, row, is_m2m=False, **kwargs):
        pass  # ImportedResource.save_m2m writes them.

    def write(self, instance, records):
        getattr(instance, self.attribute).set(records)


class ParticipationsColumn(LinksColumn):
    def __init__(self):
        super().__init__(
            attribute="participations",
            column_name="participations",
            widget=ParticipationsWidget(),
        )

    def write(self, activity, pairs):
        wanted = {(organisation.pk, role) for organisation, role in pairs}
        existing = {
            (each.organisation_id, each.role): each for each in activity.participations.all()
        }
        for key, participation in existing.items():
            if key not in wanted:
                participation.delete()
        for organisation, role in pairs:
            if (organisation.pk, role) not in existing:
                Participation.objects.create(
                    activity=activity, organisation=organisation, role=role
                )


# Resources


class NaturalKeyResource(resources.ModelResource):
    """
    A model's rows with related records by their natural keys (slugs, country codes), texts
    as the admin keeps them, and choices checked against their values.
    """

    @classmethod
    def field_from_django_field(cls, field_name, django_field, readonly):
        if django_field.many_to_many:
            model = get_related_model(django_field)
            return LinksColumn(field_name, field_name, NaturalKeysWidget(model), readonly=readonly)
        if django_field.many_to_one:
            widget = NaturalKeyWidget(get_related_model(django_field))
            return fields.Field(field_name, field_name, widget, readonly=readonly)
        if django_field.get_internal_type() in {"CharField", "TextField", "SlugField"}:
            if django_field.name == "country":  # a CountryField: hundreds of choices
                widget = TextWidget(upper=True)
            elif django_field.choices:
                widget = ChoiceWidget(django_field.choices)
            else:
                widget = TextWidget()
            return fields.Field(field_name, field_name, widget, readonly=readonly)
        return super().field_from_django_field(field_name, django_field, readonly)

    def filter_export(self, queryset, **kwargs):
        return queryset.prefetch_related(*getattr(self, "prefetched", []))


def natural_key_resource(model):
    """The export of a list that does not import: every column, relations by natural key."""
    return resources.modelresource_factory(model, resource_class=NaturalKeyResource)


class SlugInstanceLoader(BaseInstanceLoader):
    """Finds a row's record by the slug in it, as the seed data does (a former slug too)."""

    def get_instance(self, row):
        slug = TextWidget().clean(row.get("slug"))
        if not slug:
            return None
        model = self.resource._meta.model
        try:
            return model.objects.get_by_natural_key(slug)
        except model.DoesNotExist:
            return None


def changed_since_preview(record, latest):
    version = history.versions_of(record).get(pk=latest)
    who = version.revision.user or "someone"
    return (
        f"{who} changed “{record}” after the preview was made. Import the file again to see "
        "the preview as it stands now."
    )


class RolledBack(Exception):
    """Carries a result with errors out of a revision, which then saves no version."""

    def __init__(self, result):
        self.result = result


class ImportedResource(NaturalKeyResource):
    """
    A list that imports: each row finds its record by slug or adds one, is validated as the
    admin's form validates it (full_clean: privacy, web addresses, constraints), and is
    skipped when it changes nothing. A record added arrives as a draft (the publication
    column is exported, never imported); a record changed keeps its publication state.
    """

    slug = SlugColumn()

    class Meta:
        import_id_fields = ["slug"]
        instance_loader_class = SlugInstanceLoader
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True

    @property
    def links(self):
        return [field for field in self.get_import_fields() if isinstance(field, LinksColumn)]

    def after_init_instance(self, instance, new, row, **kwargs):
        """
        The lost-update check of an import: the preview notes the version of each record it
        would change, and the confirmation refuses a record saved by someone since.
        """
        if new:
            return
        if (noted := kwargs.get("opened_versions")) is not None:
            noted[str(instance.pk)] = history.latest_version_id(instance)
        if (opened := kwargs.get("preview_versions")) is not None:
            history.lock(instance)
            latest = history.latest_version_id(instance)
            if opened.get(str(instance.pk), latest) != latest:
                raise ValidationError(changed_since_preview(instance, latest))

    def before_import(self, dataset, **kwargs):
        known = {field.column_name for field in self.fields.values()}
        unknown = [name for name in dataset.headers if name not in known]
        if unknown:
            raise ValueError(
                f"Unknown columns: {', '.join(unknown)}. The columns of this list are "
                f"{', '.join(self.get_export_headers())}."
            )
        if "slug" not in dataset.headers:
            raise ValueError("A slug column is needed: it finds each row's record.")

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        instance.imported_links = {}
        for field in self.links:
            if field.column_name in row:
                try:
                    instance.imported_links[field] = field.clean(row)
                except ValueError as error:
                    errors[field.column_name] = ValidationError(str(error))
        if errors:
            raise ValidationError(errors)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors or original.pk is None:
            return False
        for field in self.get_import_fields():
            if field.readonly or field.column_name not in row:
                continue
            if isinstance(field, LinksColumn):
                imported = field.widget.text(instance.imported_links[field])
            else:
                imported = field.export(instance)
            # A workbook's XML keeps a line break in a cell as LF, whatever the text had.
            if unify_line_endings(imported) != unify_line_endings(field.export(original)):
                return False
        return True

    def save_m2m(self, instance, row, **kwargs):
        for field, records in instance.imported_links.items():
            field.write(instance, records)

    def import_data(self, dataset, dry_run=False, **kwargs):
        """
        The import, within one revision: each record it writes gets a version, by the user
        and naming the file. A failed import rolls back and saves no revision.
        """
        if dry_run:
            return super().import_data(dataset, dry_run=True, **kwargs)
        try:
            with reversion.create_revision():
                reversion.set_user(kwargs.get("user"))
                reversion.set_comment(f"Imported from “{kwargs.get('file_name') or 'a file'}”.")
                result = super().import_data(dataset, dry_run=False, **kwargs)
                if result.has_errors() or result.has_validation_errors():
                    raise RolledBack(result)
        except RolledBack as conflict:
            return conflict.result
        return result


publication = fields.Field("publication", "publication", TextWidget(), readonly=True)


class OrganisationResource(ImportedResource):
    class Meta(ImportedResource.Meta):
        model = Organisation
        exclude = ["id"]
        name = "Organisations"


class AreaResource(ImportedResource):
    class Meta(ImportedResource.Meta):
        model = Area
        exclude = ["id"]
        name = "Areas"


class AgreementResource(ImportedResource):
    signed_on = PreciseDateColumn("signed_on", dates.FIRST)
    publication = publication
    prefetched = ["parties", "areas"]

    class Meta(ImportedResource.Meta):
        model = Agreement
        fields = [
            "title",
            "slug",
            "kind",
            "signed_on",
            "city",
            "country",
            "parties",
            "areas",
            "summary",
            "supersedes",
            "publication",
        ]
        name = "Agreements"


class ActivityResource(ImportedResource):
    start_date = PreciseDateColumn("start_date", dates.FIRST)
    end_date = PreciseDateColumn("end_date", dates.LAST)
    participations = ParticipationsColumn()
    publication = publication
    prefetched = ["participations__organisation", "areas", "countries", "regions"]

    class Meta(ImportedResource.Meta):
        model = Activity
        fields = [
            "title",
            "slug",
            "description",
            "status",
            "start_date",
            "end_date",
            "agreement",
            "participations",
            "areas",
            "countries",
            "regions",
            "publication",
        ]
        name = "Activities"


# The admin


class ImportForm(LibraryImportForm):
    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise ValidationError(
                f"This file has {upload.size / 1024 / 1024:.1f} MB; an import takes at most "
                f"{IMPORT_MAX_BYTES // 1024 // 1024} MB. Split it into smaller files."
            )
        return upload


class ConfirmImportForm(LibraryConfirmImportForm):
    #: The version of each record the preview would change (see after_init_instance).
    opened_versions = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_opened_versions(self):
        try:
            noted = json.loads(self.cleaned_data["opened_versions"] or "{}")
        except ValueError:
            noted = None
        if not isinstance(noted, dict):
            raise ValidationError("The preview's versions were lost: import the file again.")
        return noted


class ExportAdmin(ExportMixin):
    """
    A list that exports, in CSV and XLSX, the rows its filters and search select: anyone
    who may see the list may export it.
    """

    export_form_class = ExportForm
    export_formats = FORMATS

    def has_export_permission(self, request):
        return self.has_view_permission(request)

    def get_resource_classes(self, request):
        return self.resource_classes or [natural_key_resource(self.model)]

    def get_export_context_data(self, **kwargs):
        # The form posts to its own address, whose query string holds the list's filters.
        return {"export_url": "", **super().get_export_context_data(**kwargs)}


class ImportExportAdmin(ImportExportMixin, ExportAdmin):
    """
    A list that also imports: whoever may add and change its records. The preview runs the
    whole import and rolls it back; the confirmation runs it again in one transaction,
    which is rolled back, writing nothing, if any row fails.
    """

    import_form_class = ImportForm
    confirm_form_class = ConfirmImportForm
    import_formats = FORMATS
    import_template_name = "admin/cooperation/import.html"

    def has_import_permission(self, request):
        return self.has_add_permission(request) and self.has_change_permission(request)

    def get_import_data_kwargs(self, **kwargs):
        form, request = kwargs.get("form"), kwargs["request"]
        kwargs = {**super().get_import_data_kwargs(**kwargs), "rollback_on_validation_errors": True}
        if isinstance(form, ConfirmImportForm):
            kwargs["preview_versions"] = form.cleaned_data["opened_versions"]
        else:
            kwargs["opened_versions"] = request.opened_versions = {}
        return kwargs

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        noted = getattr(request, "opened_versions", {})
        return {**initial, "opened_versions": json.dumps(noted)}

    def add_data_read_fail_error_to_form(self, form, error):
        if isinstance(error, UnreadableFile):
            form.add_error("import_file", str(error))
        else:
            super().add_data_read_fail_error_to_form(form, error)

    def process_import(self, request, **kwargs):
        try:
            return super().process_import(request, **kwargs)
        except (OSError, ValueError, IndexError):
            # The previewed file is gone (imported already) or the form was tampered with.
            messages.error(
                request, "The file of that preview could not be read again: import it anew."
            )
            return HttpResponseRedirect(
                reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_import")
            )

    def warn_of_unpublishable(self, result, request):
        """Name each published record that the import left short of the publishing rules."""
        for row in result.valid_rows():
            record = row.instance
            if getattr(record, "is_published", False) and (
                problems := record.publication_problems()
            ):
                messages.warning(
                    request,
                    f"The published {self.opts.verbose_name} “{record}” no longer meets the "
                    f"publishing rules: {'; '.join(problems)}.",
                )

    def fields_list(self, request):
        """The columns each resource reads, for the import page."""
        return [
            (resource.get_display_name(), resource().get_export_headers())
            for resource in self.get_import_resource_classes(request)
        ]

    def import_action(self, request, **kwargs):
        response = super().import_action(request, **kwargs)
        # The library lists no columns once the form has an error; its template needs them.
        if isinstance(response, TemplateResponse):
            response.context_data["fields_list"] = self.fields_list(request)
        return response

    def process_result(self, result, request):
        if not (result.has_errors() or result.has_validation_errors()):
            self.warn_of_unpublishable(result, request)
            return super().process_result(result, request)
        # Rows that passed the preview failed now (someone changed the records since):
        # nothing was written.
        form = self.get_import_form_class(request)(
            self.get_import_formats(), self.get_import_resource_classes(request)
        )
        context = {
            **self.admin_site.each_context(request),
            "title": "Import",
            "opts": self.opts,
            "form": form,
            "result": result,
            "import_error_display": self.import_error_display,
            "fields_list": self.fields_list(request),
        }
        return TemplateResponse(request, [self.import_template_name], context)
