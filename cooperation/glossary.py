"""
The words of the tracker in plain language, for the glossary page (/glossary/). Each code
a page shows (a status, a role, a kind) has an entry here, anchored as `<section>-<code>`,
so that a page can link a term to its explanation; tests check that none is missing.
"""

from dataclasses import dataclass

from .models import ActivityStatus, AgreementKind, AreaKind, OrganisationKind, Role


@dataclass
class Entry:
    anchor: str
    term: str
    text: str
    code: str = ""


@dataclass
class Section:
    anchor: str
    title: str
    text: str
    entries: list


STATUS = {
    ActivityStatus.PIPELINE: (
        "Planned but not started: the partners are still identifying or preparing the work."
    ),
    ActivityStatus.IMPLEMENTATION: "Under way: the work is being carried out.",
    ActivityStatus.FINALISATION: (
        "The work itself is done; reports, accounts or evaluations are being completed."
    ),
    ActivityStatus.CLOSED: "Finished, with nothing left to do or report.",
    ActivityStatus.CANCELLED: "Stopped before it was finished, or never started.",
    ActivityStatus.SUSPENDED: "Paused for now; it may resume.",
}

ROLE = {
    Role.FUNDING: "Provides the money.",
    Role.ACCOUNTABLE: (
        "Answers for the activity: plans it and sees that it is carried out, often the "
        "organisation that signs for it."
    ),
    Role.EXTENDING: (
        "Passes money on from the funders to those who carry out the work, such as an agency "
        "that manages a grant for a ministry."
    ),
    Role.IMPLEMENTING: "Carries out the work on the ground.",
}

ORGANISATION_KIND = {
    OrganisationKind.INTERNATIONAL: (
        "An organisation set up by several states, such as a United Nations agency."
    ),
    OrganisationKind.SUPRANATIONAL: (
        "A union of states that makes rules binding on its members, such as the European Union."
    ),
    OrganisationKind.EU_INSTITUTION: (
        "One of the bodies that run the European Union, such as the European Commission."
    ),
    OrganisationKind.EU_AGENCY: (
        "A body of the European Union set up for one task, such as border management."
    ),
    OrganisationKind.NATIONAL_AUTHORITY: "A ministry, agency or other public body of one country.",
    OrganisationKind.INTERNATIONAL_NGO: (
        "A non-governmental organisation working in several countries."
    ),
    OrganisationKind.NATIONAL_NGO: "A non-governmental organisation working in one country.",
    OrganisationKind.ACADEMIC: "A university, training centre or research institute.",
    OrganisationKind.OTHER: "Any other organisation.",
}

AGREEMENT_KIND = {
    AgreementKind.WORKING_ARRANGEMENT: (
        "A practical arrangement between administrations on how they work together; usually "
        "not legally binding."
    ),
    AgreementKind.MEMORANDUM: (
        "A memorandum of understanding: a written statement of shared intentions, usually "
        "not legally binding."
    ),
    AgreementKind.EXCHANGE_OF_LETTERS: (
        "Letters in which each side confirms what they agreed, taken together as the agreement."
    ),
    AgreementKind.COOPERATION_AGREEMENT: (
        "An agreement that sets out obligations for working together on named matters."
    ),
    AgreementKind.FRAMEWORK_AGREEMENT: (
        "An agreement that sets general terms under which later, more detailed agreements "
        "or activities are made."
    ),
    AgreementKind.OTHER: "Any other kind of agreement.",
}

AREA_KIND = {
    AreaKind.THEMATIC: "A field of work in its own right, such as border management.",
    AreaKind.CROSS_CUTTING: (
        "A concern that runs through many fields, such as gender equality or data protection."
    ),
}


def entries(prefix, choices, texts, code=None):
    return [
        Entry(f"{prefix}-{choice.value}", choice.label, texts[choice], code(choice) if code else "")
        for choice in choices
    ]


def anchor(prefix, value):
    """The glossary anchor of one code, such as "status-pipeline"."""
    return f"{prefix}-{value}"


def sections():
    return [
        Section(
            "terms",
            "Terms",
            "Words the lists and records use.",
            [
                Entry(
                    "activity",
                    "Activity",
                    "A piece of joint work that organisations carry out together, such as a "
                    "project, a training course or a joint operation.",
                ),
                Entry(
                    "agreement",
                    "Agreement",
                    "A written arrangement between organisations under which they cooperate; "
                    "an activity may fall under one.",
                ),
                Entry(
                    "area",
                    "Area",
                    "A field of cooperation, such as border management or training. An "
                    "activity or agreement may cover several.",
                ),
                Entry(
                    "party",
                    "Party",
                    "An organisation that has signed or joined an agreement.",
                ),
                Entry(
                    "country",
                    "Country",
                    "A country where an activity takes place or that benefits from it, named "
                    "by its ISO 3166 code (such as FR for France).",
                ),
                Entry(
                    "region",
                    "Region",
                    "A group of countries or a part of the world an activity concerns as a "
                    "whole, such as the Sahel.",
                ),
                Entry(
                    "start-year",
                    "Start year",
                    "The year an activity started, or is planned to start. Some sources give "
                    "only a year or a month; the tracker keeps a date as precisely as its "
                    "source gives it.",
                ),
                Entry(
                    "year-signed",
                    "Year signed",
                    "The year an agreement was signed. A date known only to the month or the "
                    "year counts in that year.",
                ),
                Entry(
                    "source",
                    "Source and citation",
                    "Every record rests on published documents (its sources); a citation "
                    "quotes the passage of a source that supports the record, word for word.",
                ),
                Entry(
                    "iati",
                    "IATI",
                    "The International Aid Transparency Initiative, a standard for publishing "
                    "data on development and humanitarian work. The tracker uses its codes for "
                    "statuses, roles and kinds of organisation, so its data can be compared "
                    "with others'.",
                ),
            ],
        ),
        Section(
            "status",
            "Activity status",
            "Where an activity stands, as in IATI's ActivityStatus codelist (its code in "
            "brackets).",
            entries("status", ActivityStatus, STATUS, lambda choice: choice.iati_code),
        ),
        Section(
            "role",
            "Roles of organisations in an activity",
            "What an organisation does in an activity, as in IATI's OrganisationRole codelist. "
            "One organisation may have several roles.",
            entries("role", Role, ROLE, lambda choice: choice.iati_code),
        ),
        Section(
            "organisation-kind",
            "Kinds of organisation",
            "The kinds the tracker uses. Each maps to a code of IATI's OrganisationType "
            "codelist (in brackets): 10 government, 21 international NGO, 22 national NGO, "
            "40 multilateral, 80 academic, training and research, 90 other. “IATI "
            "organisation type 40” on an organisation's page means multilateral.",
            entries(
                "organisation-kind", OrganisationKind, ORGANISATION_KIND, lambda c: c.iati_code
            ),
        ),
        Section(
            "agreement-kind",
            "Kinds of agreement",
            "How the parties recorded their agreement.",
            entries("agreement-kind", AgreementKind, AGREEMENT_KIND),
        ),
        Section(
            "area-kind",
            "Kinds of area",
            "Areas of cooperation are of two kinds.",
            entries("area-kind", AreaKind, AREA_KIND),
        ),
    ]
