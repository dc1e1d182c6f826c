"""
Entering new records from a source's text, on its page to read and cite (citing.py): an
organisation, a person or an area that a passage names is entered with that passage as its
first citation, and saved with the page's other citations in one step, all or nothing.

Each row is the record's own admin form (`ModelAdmin.get_form`: its fields' validation, its
`clean()`, such as an organisation's name that another has), with the passage to cite; the
slug, which the admin's form fills from the name, is made from the name here. A person names
their organisation by name or acronym: one entered on the same page, or one already saved.
The script (static/cooperation/citing.js) fills a row from the selected passage; without it
the rows are plain forms whose passages are pasted.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.text import capfirst, slugify

from .models import QUOTE_MAX_LENGTH, Citation, FormerSlug, Organisation, VerbatimFormField

#: The kinds of record a passage may enter, each with the fields of its admin form shown.
FIELDS = {
    "organisation": ["name", "acronym", "kind", "slug", "different_organisation"],
    "person": ["name", "slug"],
    "area": ["name", "slug"],
}
#: The prefix of each kind's rows in the page's form.
PREFIXES = {"organisation": "organisations", "person": "people", "area": "areas"}
#: At most this many new records of a kind in one save.
MAX_ROWS = 50


def free_slug(model, name, taken):
    """A slug made from `name` that no `model` record (nor a former slug) and no `taken` has."""
    field = model._meta.get_field("slug")
    base = slugify(name)[: field.max_length - 4].strip("-")
    if not base:
        return ""
    slug, number = base, 1
    while (
        slug in taken
        or model._default_manager.filter(slug=slug).exists()
        or (model is Organisation and FormerSlug.objects.filter(slug=slug).exists())
    ):
        number += 1
        slug = f"{base}-{number}"
    taken.add(slug)
    return slug


class NewRecordForm:
    """
    A record's admin form entered from a passage of `source`: the passage is cited for it
    (`citation`, saved with it) and the slug is made from the name.
    """

    record_kind = None

    def __init__(self, *args, source, taken, **kwargs):
        super().__init__(*args, **kwargs)
        self.source = source
        self.taken = taken
        self.citation = None
        slug = self.fields["slug"]
        slug.required = False
        slug.widget = forms.HiddenInput()

    def clean_slug(self):
        name = self.cleaned_data.get("name")
        if not name:
            return ""
        slug = free_slug(self._meta.model, name, self.taken)
        if not slug:
            raise ValidationError("The name needs a letter or a digit for the record's address.")
        self.cleaned_data["slug"] = slug
        inherited = getattr(super(), "clean_slug", None)
        return inherited() if inherited else slug

    def clean(self):
        cleaned_data = super().clean()
        quote = cleaned_data.get("quote")
        if quote:
            self.citation = Citation(
                source=self.source, quote=quote, **{self.record_kind: self.instance}
            )
            try:
                # The record is not saved yet: the rules on its key are checked as it is saved.
                self.citation.full_clean(exclude=[self.record_kind])
            except ValidationError as error:
                for messages in error.message_dict.values():
                    self.add_error("quote", messages)
                from .citing import passage_offer  # citing.py builds these rows.

                passage_offer(self)
        return cleaned_data


class NewPersonForm:
    """A new person's organisation, named: resolved against the page's new ones (`link`)."""

    def clean_organisation(self):
        return self.cleaned_data["organisation"].strip()


def new_record_forms(kind, model_admin, request):
    """The form class of a new `kind` record's row, built on its admin's form."""
    base = model_admin.get_form(request, None, fields=FIELDS[kind])
    attrs = {
        "record_kind": kind,
        "field_order": ["quote", "name", "acronym", "organisation", "kind", "publishes"],
        "quote": VerbatimFormField(
            label="Passage",
            widget=forms.Textarea(attrs={"rows": 2, "class": "citing-quote"}),
            max_length=QUOTE_MAX_LENGTH,
            help_text="Cited for the new record.",
        ),
    }
    mixins = [NewRecordForm]
    if kind == "organisation":
        attrs["publishes"] = forms.BooleanField(label="Publisher of this source", required=False)
    if kind == "person":
        mixins.insert(0, NewPersonForm)
        attrs["organisation"] = forms.CharField(
            max_length=200,
            required=False,
            help_text="Name or acronym: one entered here, or one saved before.",
            widget=forms.TextInput(attrs={"list": "citing-organisations"}),
        )
    form = type(f"New{capfirst(kind)}Form", (*mixins, base), attrs)
    return forms.formset_factory(
        form, formset=NewRecordFormSet, extra=1, max_num=MAX_ROWS, validate_max=True
    )


class NewRecordFormSet(forms.BaseFormSet):
    """
    The new records of one kind; a name (capitals aside) is entered once. A form sent
    without these rows' management form (one built before the rows were offered) has none.
    """

    def __init__(self, data=None, *args, prefix=None, **kwargs):
        if data is not None and f"{prefix}-TOTAL_FORMS" not in data:
            data = data.copy()
            data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
        super().__init__(data, *args, prefix=prefix, **kwargs)

    def clean(self):
        if any(self.errors):
            return
        seen = set()
        for form in self.entered():
            name = form.cleaned_data["name"].lower()
            if name in seen:
                form.add_error("name", "This name is entered twice on this page.")
            seen.add(name)

    def entered(self):
        """The rows filled in."""
        return [form for form in self.forms if form.has_changed()]


def link_people(people, organisations):
    """
    Give each new person the organisation they name: one of the `organisations` rows (by
    name or acronym, capitals aside), else a saved organisation of that name or acronym.
    A name that finds none, or several, is an error on the person's row.
    """
    for form in people.entered():
        named = form.cleaned_data.get("organisation")
        form.organisation_form = form.instance.organisation = None
        if not named:
            continue
        lowered = named.lower()
        entered = [
            each
            for each in organisations.entered()
            if lowered in {each.cleaned_data.get(name, "").lower() for name in ["name", "acronym"]}
        ]
        if len(entered) == 1:
            form.organisation_form = entered[0]
            continue
        saved = list(
            Organisation.objects.filter(Q(name__iexact=named) | Q(acronym__iexact=named))[:2]
        )
        if len(entered) + len(saved) == 1:
            form.instance.organisation = saved[0]
        elif entered or saved:
            form.add_error("organisation", "Several organisations go by this: type the full name.")
        else:
            form.add_error(
                "organisation",
                "No organisation has this name or acronym: enter it above, or correct it.",
            )


class NoRows:
    """In place of the organisations' rows for a user who may not add organisations."""

    def entered(self):
        return []


NO_ROWS = NoRows()
