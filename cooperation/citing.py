"""
Citing a source by selecting its passages. The source's page to read and cite shows its
full text with the passages already cited marked, each linking to the record it supports;
staff select a passage (or find it by typing part of it), take it into a new citation, choose
the record it supports with the admin's autocomplete, and save several citations in one
step. The quotes are the source's own letters, so they never need retyping.

The script (static/cooperation/citing.js) only fills a quote from the selection and adds
rows: without it the form is a plain formset whose quotes are pasted.
"""

from itertools import pairwise

import reversion
from django import forms
from django.contrib import messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import capfirst

from . import entering, history
from .models import (
    CITED_MODELS,
    QUOTE_MAX_LENGTH,
    Citation,
    Source,
    VerbatimFormField,
    quote_found,
    unify_line_endings,
)
from .quotes import nearest

#: The session's note of the source an editor last cited, offered in the next new row.
LAST_SOURCE = "cooperation:last-source"
#: How many records of each kind the record search offers.
RESULTS_PER_KIND = 10
#: How many of a source's citations its page lists (the text marks them all).
LISTED = 50
#: Rows of the form to cite that are blank when the page opens (the script adds more).
BLANK_ROWS = 3


def cited_model(kind):
    return Citation._meta.get_field(kind).related_model


def record_label(kind, record):
    return f"{capfirst(cited_model(kind)._meta.verbose_name)}: {record}"


def supported(citation):
    """What a citation supports, as "Activity: Joint training"."""
    return record_label(citation.cited_model, citation.cited)


def record_change_url(kind, pk):
    return reverse(f"admin:cooperation_{kind}_change", args=[pk])


def key(value):
    """`value` as a record's id if it is one (ASCII digits that fit in 64 bits), else None."""
    value = str(value)
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None


def source_from(request):
    """The source a record's page was opened from (`?source=ID`), if there is one."""
    pk = key(request.GET.get("source", ""))
    return None if pk is None else Source.objects.filter(pk=pk).first()


def passage_offer(form, field="quote"):
    """
    When `form`'s quote was refused as not in its source, a button that puts the nearest
    passage of the source in the quote box (citing.js shows it; without the script the
    passage is in the message above, to copy).
    """
    citation = getattr(form, "citation", None) or form.instance
    if field not in form.errors or not citation.quote or not citation.source_id:
        return
    text = citation.source.text
    if quote_found(citation.quote, text):
        return
    near = nearest(unify_line_endings(citation.quote), unify_line_endings(text))
    if near is None:
        return
    form.errors[field].append(
        format_html(
            '<button type="button" class="button use-passage" data-for="{}" '
            'data-passage="{}" hidden>Use the source’s passage</button>',
            form[field].auto_id,
            near.passage,
        )
    )


class OffersPassage:
    """A citation ModelForm whose refused quote comes with the source's passage to use."""

    def _post_clean(self):
        super()._post_clean()
        passage_offer(self)


def marked_text(text, citations):
    """
    `text` as HTML, each passage that `citations` quote marked and linked to the record it
    supports; where quotes overlap, the link goes to the first citation's record and the
    title names them all.
    """
    spans = []
    for citation in citations:
        start = text.find(citation.quote)
        if start >= 0:
            spans.append((start, start + len(citation.quote), citation))
    boundaries = sorted({0, len(text), *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    parts = []
    for begin, end in pairwise(boundaries):
        covering = [c for s, e, c in spans if s <= begin and end <= e]
        if not covering:
            parts.append(format_html("{}", text[begin:end]))
            continue
        first = covering[0]
        parts.append(
            format_html(
                '<a class="cited" href="{}" title="{}">{}</a>',
                record_change_url(first.cited_model, first.cited.pk),
                "; ".join(supported(citation) for citation in covering),
                text[begin:end],
            )
        )
    return mark_safe("".join(parts))  # noqa: S308 - each part is escaped by format_html.


class AnyRecordSelect(AutocompleteSelect):
    """
    The admin's autocomplete (select2 and its script) over every kind of record a citation
    may support, asking `records_view` below; a value is "kind:id", such as "activity:12".
    """

    def __init__(self, admin_site, source):
        super().__init__(Citation._meta.get_field("organisation"), admin_site)
        self.source = source

    def get_url(self):
        return reverse(f"{self.admin_site.name}:cooperation_source_records", args=[self.source.pk])

    def optgroups(self, name, value, attr=None):
        options = [self.create_option(name, "", "", False, 0)]
        for each in value:
            try:
                kind, record = RecordField.record_of(each)
            except ValidationError:
                continue
            options.append(
                self.create_option(name, each, record_label(kind, record), True, len(options))
            )
        return [(None, options, 0)]


class RecordField(forms.Field):
    """A record of any kind a citation may support, chosen as "kind:id"."""

    default_error_messages = {"invalid": "Choose the record from the list."}

    @staticmethod
    def record_of(value):
        kind, _, pk = str(value).partition(":")
        if kind not in CITED_MODELS or key(pk) is None:
            raise ValidationError(RecordField.default_error_messages["invalid"], code="invalid")
        record = cited_model(kind)._default_manager.filter(pk=pk).first()
        if record is None:
            raise ValidationError(
                "This record does not exist (any more): choose another.", code="invalid"
            )
        return kind, record

    def to_python(self, value):
        if value in self.empty_values:
            return None
        return self.record_of(value)


class CitingForm(forms.Form):
    """One new citation of the source: a passage of it, the record it supports, a note."""

    quote = VerbatimFormField(
        widget=forms.Textarea(attrs={"rows": 3, "class": "citing-quote"}),
        max_length=QUOTE_MAX_LENGTH,
        help_text="Select it in the text, then “Cite the selection”.",
    )
    record = RecordField(label="Supports")
    note = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, source, request, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        self.source = source
        self.request = request
        self.admin_site = admin_site
        self.citation = None
        self.fields["record"].widget = AnyRecordSelect(admin_site, source)
        self.fields["record"].widget.is_required = True

    def clean(self):
        cleaned_data = super().clean()
        chosen, quote = cleaned_data.get("record"), cleaned_data.get("quote")
        if chosen is None or not quote:
            return cleaned_data
        kind, record = chosen
        model_admin = self.admin_site._registry[type(record)]
        if not model_admin.has_change_permission(self.request, record):
            self.add_error("record", "You may not change this record, so not cite for it.")
            return cleaned_data
        self.citation = Citation(
            source=self.source, quote=quote, note=cleaned_data.get("note", ""), **{kind: record}
        )
        try:
            self.citation.full_clean()
        except ValidationError as error:
            for field, errors in error.error_dict.items():
                self.add_error(field if field in self.fields else "record", errors)
            passage_offer(self)
        return cleaned_data


class CitingFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors) or not self.management_form.is_valid():
            return
        seen = set()
        for form in self.forms:
            citation = form.citation
            if citation is None:
                continue
            key = (citation.cited_model, citation.cited.pk, citation.quote)
            if key in seen:
                form.add_error("quote", "This record already cites this passage above.")
            seen.add(key)
        if not seen and not getattr(self, "others_entered", False):
            raise ValidationError("Select a passage and a record to cite, or enter a record.")

    def citations(self):
        return [form.citation for form in self.forms if form.citation is not None]


CitingForms = forms.formset_factory(
    CitingForm, formset=CitingFormSet, extra=BLANK_ROWS, max_num=100, validate_max=True
)


def save_citations(request, source, citations, formsets=None):
    """
    Save `citations`, and the records `formsets` enter with theirs (new_record_formsets),
    as one version: each citation is a change of the record it supports (whose own version
    follows it, see HISTORY_FOLLOWS), so a form of that record opened before is refused as
    stale instead of overwriting them. Returns the new records.
    """
    created = []
    with transaction.atomic(), reversion.create_revision():
        reversion.set_user(request.user)
        reversion.set_comment(f"Cited “{source}”.")
        for citation in citations:
            history.lock(citation.cited)
        for kind, formset in (formsets or {}).items():
            for form in formset.entered():
                if kind == "person" and form.organisation_form is not None:
                    form.instance.organisation = form.organisation_form.instance
                record = form.save()
                setattr(form.citation, kind, record)
                citations = [*citations, form.citation]
                created.append(record)
                if form.cleaned_data.get("publishes"):
                    source.publishers.add(record)
                    reversion.add_to_revision(source)
        for citation in citations:
            citation.save()
    request.session[LAST_SOURCE] = source.pk
    return created


def new_record_formsets(request, admin_site, source, data):
    """The rows of new records of each kind the user may add, by kind (entering.py)."""
    formsets = {}
    for kind, prefix in entering.PREFIXES.items():
        record_admin = admin_site._registry[cited_model(kind)]
        if not record_admin.has_add_permission(request):
            if data is not None and any(
                value and name.startswith(f"{prefix}-") and name.split("-")[1].isdigit()
                for name, value in data.items()
            ):
                raise PermissionDenied
            continue
        rows = entering.new_record_forms(kind, record_admin, request)
        formsets[kind] = rows(data, prefix=prefix, form_kwargs={"source": source, "taken": set()})
    return formsets


def entered_valid(request, source_admin, source, formset, formsets):
    """Whether the citations and the new records all pass, once people have organisations."""
    # Every formset is checked, to show every error at once.
    checked = [formset.is_valid(), *(rows.is_valid() for rows in formsets.values())]
    valid = all(checked)
    if "person" in formsets:
        organisations = formsets.get("organisation") or entering.NO_ROWS
        entering.link_people(formsets["person"], organisations)
    for form in formsets["organisation"].entered() if "organisation" in formsets else []:
        if form.cleaned_data.get("publishes") and not source_admin.has_change_permission(
            request, source
        ):
            form.add_error("publishes", "You may not change this source's publishers.")
    return valid and not any(form.errors for rows in formsets.values() for form in rows)


def saved_message(source, created, citations):
    """What a save of the page to cite saved, as "2 organisations and 5 citations of …"."""
    counts = {}
    for record in created:
        counts.setdefault(type(record)._meta, 0)
        counts[type(record)._meta] += 1
    parts = [
        f"{number} {opts.verbose_name if number == 1 else opts.verbose_name_plural}"
        for opts, number in counts.items()
    ]
    parts.append("1 citation" if citations == 1 else f"{citations} citations")
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + f" and {parts[-1]}"
    return f"{listed} of “{source}” saved."


#: What a save of the page to cite may go on to: adding a record citing the source.
NEXT = ["agreement", "activity"]


def after_saving(request, admin_site, source):
    """The page to go to after a save: a record's form citing the source, or this page."""
    kind = request.POST.get("_add", "")
    if kind in NEXT and admin_site._registry[cited_model(kind)].has_add_permission(request):
        return reverse(f"admin:cooperation_{kind}_add") + f"?source={source.pk}"
    return request.path


def cite_view(request, object_id, model_admin):
    """
    The source's full text to read, its cited passages marked, and the form to cite it and
    to enter the records it names.
    """
    source = get_object_or_404(Source, pk=object_id)
    if not model_admin.has_view_permission(request, source):
        raise PermissionDenied
    can_cite = request.user.has_perm("cooperation.add_citation")
    admin_site = model_admin.admin_site
    kwargs = {"source": source, "request": request, "admin_site": admin_site}
    data = request.POST if request.method == "POST" else None
    if data is not None and not can_cite:
        raise PermissionDenied
    formsets = new_record_formsets(request, admin_site, source, data) if can_cite else {}
    formset = CitingForms(data, form_kwargs=kwargs)
    status, save_error = 200, None
    if data is not None:
        formset.others_entered = any(
            form.has_changed() for rows in formsets.values() for form in rows.forms
        )
        if entered_valid(request, model_admin, source, formset, formsets):
            citations = formset.citations()
            try:
                created = save_citations(request, source, citations, formsets)
            except IntegrityError:
                save_error = (
                    "Someone saved a record of the same name or address meanwhile: nothing "
                    "was saved. Check the records, then save again."
                )
            else:
                for record in created:
                    record_admin = admin_site._registry[type(record)]
                    record_admin.log_addition(request, record, [{"added": {}}])
                counted = len(citations) + len(created)
                message = saved_message(source, created, counted)
                model_admin.message_user(request, message, messages.SUCCESS)
                return redirect(after_saving(request, admin_site, source))
        status = 400
    citations = list(source.citations.select_related(*CITED_MODELS).order_by("pk"))
    context = {
        **admin_site.each_context(request),
        "opts": model_admin.opts,
        "original": source,
        "title": f"Read and cite: {source}",
        "marked_text": marked_text(source.text, citations),
        "cited": [(citation, supported(citation)) for citation in citations[:LISTED]],
        "cited_count": len(citations),
        "all_cited_url": reverse("admin:cooperation_citation_changelist")
        + f"?source__id__exact={source.pk}",
        "formset": formset if can_cite else None,
        "entering": [
            (kind, opts.verbose_name, opts.verbose_name_plural, rows)
            for kind, rows in formsets.items()
            if (opts := cited_model(kind)._meta)
        ],
        "organisations": organisations_of(source, citations),
        "save_error": save_error,
        "next_kinds": [
            (kind, cited_model(kind)._meta.verbose_name)
            for kind in NEXT
            if can_cite and admin_site._registry[cited_model(kind)].has_add_permission(request)
        ],
        "media": model_admin.media + formset.media,
        "add_links": add_links(request, admin_site, source),
    }
    return TemplateResponse(request, "admin/cooperation/source/cite.html", context, status=status)


def records_of(source):
    """
    The organisations (its publishers too), people and areas `source` is cited for, by
    kind, for the form of a record citing it: citing.js offers each as a one-click choice.
    """
    records = {}
    for kind in entering.PREFIXES:
        model = cited_model(kind)
        found = Q(citations__source=source)
        if kind == "organisation":
            found |= Q(sources=source)
        records[kind] = [
            {"id": record.pk, "label": str(record), "short": getattr(record, "acronym", "")}
            for record in model.objects.filter(found).distinct().order_by("name")[:LISTED]
        ]
    return records


def organisations_of(source, citations):
    """The organisations that publish `source` or that it is cited for, by name."""
    organisations = {c.organisation for c in citations if c.organisation_id}
    organisations.update(source.publishers.all())
    return sorted(organisations, key=lambda organisation: organisation.name)


def add_links(request, admin_site, source):
    """Links to add each kind of record the user may add, citing `source` in its form."""
    links = []
    for kind in CITED_MODELS:
        model = cited_model(kind)
        if admin_site._registry[model].has_add_permission(request):
            url = reverse(f"admin:cooperation_{kind}_add")
            links.append((f"{url}?source={source.pk}", model._meta.verbose_name))
    return format_html_join(", ", '<a href="{}" class="citing-add">{}</a>', links)


def records_view(request, object_id, model_admin):
    """
    The records whose name holds the typed words, of every kind a citation may support and
    the user may see, for the autocomplete of the form to cite (the JSON of Django's own).
    Newest first: before anything is typed it lists the records just entered, which are
    the ones a source being entered supports.
    """
    get_object_or_404(Source, pk=object_id)
    term = request.GET.get("term", "")
    if len(term) > 200:
        return HttpResponseBadRequest("Type at most 200 characters.")
    results = []
    for kind in CITED_MODELS:
        record_admin = model_admin.admin_site._registry[cited_model(kind)]
        if not record_admin.has_view_permission(request):
            continue
        queryset = record_admin.get_queryset(request)
        if term:
            queryset, _ = record_admin.get_search_results(request, queryset, term)
        for record in queryset.order_by("-pk")[:RESULTS_PER_KIND]:
            results.append({"id": f"{kind}:{record.pk}", "text": record_label(kind, record)})
    return JsonResponse({"results": results, "pagination": {"more": False}})
