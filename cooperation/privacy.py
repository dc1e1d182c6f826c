"""
The rule that keeps contact details off public pages: no text a visitor can read (a quote,
a note, a description, a summary) may hold an e-mail address or a telephone number. People's
telephone numbers and e-mail addresses belong in a Person's staff-only fields, and a quote
of a press contact line is a citation of that Person, which stays staff only.

Models call `refuse_contact_details()` from `clean()`, so the admin's forms, `full_clean()`
and the seed checks all apply the same rule, and say what they found.
"""

import re

from django.core.exceptions import ValidationError

#: A digit, then at least `more` further digits, each after at most one separator
#: (space, dot, hyphen, slash or bracket): "+41 79 103 8720", "(022) 717-9111".
DIGITS = r"\d(?:[ ./()-]{{0,2}}\d){{{more},}}"

CONTACT_DETAILS = re.compile(
    "|".join(
        [
            # An e-mail address: press@easo.europa.eu.
            r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+",
            # A labelled number: "Tel.: 022 717 9111", "Phone 717 9111", "Fax: +32 2 555".
            r"\b(?:tel|telephone|phone|fax|mobile)\b[.:(+ ]*" + DIGITS.format(more=4),
            # An international number: "+" and at least seven digits.
            r"\+" + DIGITS.format(more=6),
        ]
    ),
    re.IGNORECASE,
)


def contact_details(text):
    """The e-mail addresses and telephone numbers in `text`, as written there, in order."""
    return [match.group() for match in CONTACT_DETAILS.finditer(text or "")]


def refuse_contact_details(record, *fields):
    """
    Raise a ValidationError naming, for each of `record`'s `fields` that holds an e-mail
    address or a telephone number, what was found there.
    """
    errors = {}
    for name in fields:
        found = contact_details(getattr(record, name))
        if found:
            listed = ", ".join(f"“{detail}”" for detail in found)
            errors[name] = ValidationError(
                f"This is shown publicly, so it may not hold an e-mail address or a telephone "
                f"number: {listed}. Keep contact details in a person's staff-only fields.",
                code="contact_details",
            )
    if errors:
        raise ValidationError(errors)
