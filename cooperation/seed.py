"""
The seed data: what the IOM and EASO press release of 22 July 2019 says.

Each record lists under "cited" the words of the release that support it, as a
quote or a (quote, note) pair. `build_fixture()` checks every quote against the
release, letter for letter, and turns the records into a fixture with natural
keys, so a load recognises the rows an earlier load brought instead of adding
copies. `manage.py build_seed` writes the fixture to fixtures/seed.json, and
`manage.py load_seed` loads it without overwriting staff work.
"""

import datetime
import json
from pathlib import Path

from django.apps import apps
from django.conf import settings

from .models import (
    CITED_MODELS,
    QUOTE_MAX_LENGTH,
    ActivityStatus,
    AgreementKind,
    AreaKind,
    OrganisationKind,
    Publication,
    Role,
    quote_found,
)

SOURCE = {
    "slug": "iom-easo-working-arrangement-2019-07-22",
    "title": "IOM, European Asylum Support Office Sign Working Arrangement",
    "publishers": ["iom", "eu"],
    "published_on": datetime.date(2019, 7, 22),
    "city": "Paris",
    "country": "FR",
    "url": "",  # The release as filed gives no address.
}

# Sentences cited by several records.
SIGNING = (
    "The Working Arrangement was signed today by the Executive Director of EASO, "
    "Nina Gregori, and the Director General of the IOM, António Vitorino, in Paris."
)
THEMATIC_AREAS = (
    "These areas include early warning, preparedness and contingency, the reception "
    "conditions of applicants, returns to countries of origin, resettlement, voluntary "
    "relocation and supporting migrants with vulnerabilities and specific protection needs."
)
CROSS_CUTTING_AREAS = (
    "Cross-cutting areas of cooperation are also included in the Working Arrangement, such "
    "as training initiatives, exchange of expertise and joint work on capacity-building "
    "activities for national authorities."
)
JOINT_WORK = (
    "EASO and the IOM also work together to support countries in the European neighbourhood "
    "in managing migration and asylum procedures in line with international and, where "
    "applicable, EU law."
)
JOINT_WORK_LIST = (
    "This includes joint training to national authorities, the coordination of resettlement "
    "from non-EU countries to the EU as well as the exchange of data, information and "
    "documentation."
)

ORGANISATIONS = [
    {
        "slug": "eu",
        "name": "European Union",
        "acronym": "EU",
        "kind": OrganisationKind.SUPRANATIONAL,
        "cited": ["from International Organization for Migration, European Union"],
    },
    {
        "slug": "easo",
        "name": "European Asylum Support Office",
        "acronym": "EASO",
        "kind": OrganisationKind.EU_AGENCY,
        "parent": "eu",
        "description": (
            "Helps national authorities safeguard the rights of migrants and applicants for "
            "international protection, and works with IOM on asylum and migration management."
        ),
        "cited": ["The European Asylum Support Office (EASO)"],
    },
    {
        "slug": "iom",
        "name": "International Organization for Migration",
        "acronym": "IOM",
        "kind": OrganisationKind.INTERNATIONAL,
        "description": (
            "International organisation working on migration; its mandate overlaps EASO’s in "
            "safeguarding the rights of migrants and applicants for international protection."
        ),
        "cited": ["the International Organization for Migration (IOM)"],
    },
]

AREAS = [
    *(
        {"slug": slug, "name": name, "kind": AreaKind.THEMATIC, "cited": [THEMATIC_AREAS]}
        for slug, name in [
            ("early-warning", "Early warning"),
            ("preparedness-contingency", "Preparedness and contingency"),
            ("reception-conditions", "Reception conditions of applicants"),
            ("returns", "Returns to countries of origin"),
            ("resettlement", "Resettlement"),
            ("voluntary-relocation", "Voluntary relocation"),
            (
                "migrants-with-vulnerabilities",
                "Supporting migrants with vulnerabilities and specific protection needs",
            ),
        ]
    ),
    *(
        {"slug": slug, "name": name, "kind": AreaKind.CROSS_CUTTING, "cited": [CROSS_CUTTING_AREAS]}
        for slug, name in [
            ("training-initiatives", "Training initiatives"),
            ("exchange-of-expertise", "Exchange of expertise"),
            ("capacity-building", "Capacity-building for national authorities"),
        ]
    ),
]

REGIONS = [
    {
        "slug": "european-neighbourhood",
        "name": "European neighbourhood",
        "cited": ["countries in the European neighbourhood"],
    },
    {"slug": "non-eu-countries", "name": "Non-EU countries", "cited": ["non-EU countries"]},
]

PEOPLE = [
    {
        "slug": "nina-gregori",
        "name": "Nina Gregori",
        "organisation": "easo",
        "cited": ["the Executive Director of EASO, Nina Gregori"],
    },
    {
        "slug": "antonio-vitorino",
        "name": "António Vitorino",
        "organisation": "iom",
        "cited": ["the Director General of the IOM, António Vitorino"],
    },
    {
        "slug": "joel-millman",
        "name": "Joel Millman",
        "organisation": "iom",
        "telephone": "+41 79 103 8720",
        "email": "jmillman@iom.int",
        "cited": [
            "For more information please contact Joel Millman, IOM Geneva, "
            "Tel.: +41 79 103 8720; Email: jmillman@iom.int"
        ],
    },
    {
        "slug": "easo-press-office",
        "name": "EASO press office",
        "organisation": "easo",
        "email": "press@easo.europa.eu",
        "cited": ["Or: press@easo.europa.eu"],
    },
]

# The purpose of the arrangement, and the statements at its signing (the words
# inside the quotation marks).
PURPOSE = (
    "The European Asylum Support Office (EASO) and the International Organization for "
    "Migration (IOM) have established a formal cooperation framework to guide the relevant "
    "areas of common work in the fields of international protection and migration management."
)
SCOPE = (
    "The Working Arrangement covers cooperation in several areas where EASO and the IOM’s "
    "mandates converge in ensuring that the rights of migrants and applicants for "
    "international protection are safeguarded, while supporting national governments in "
    "meeting their obligations and needs."
)
GREGORI = (
    "EASO and the IOM have worked together for several years in helping authorities "
    "safeguard the rights of migrants and applicants for international protection. I welcome "
    "today’s formalization of this cooperation, which strengthens the important work both "
    "parties carry out and is another example of the EU’s emphasis on strong international "
    "synergies in migration and asylum management."
)
VITORINO = (
    "Partnership between IOM and EASO has seen significant expansion in the last few years, "
    "reflecting the growth and complexity of needs in the field of asylum and migration in the "
    "EU and neighbouring countries. Establishing cooperation for complementarity is a "
    "pre-cursor for ensuring highest-quality support to migrants, asylum-seekers and our "
    "shared Member States"
)
AGREEMENTS = [
    {
        "slug": "iom-easo-working-arrangement-2019",
        "title": (
            "Working Arrangement between the European Asylum Support Office "
            "and the International Organization for Migration"
        ),
        "kind": AgreementKind.WORKING_ARRANGEMENT,
        "publication": Publication.PUBLISHED,
        "signed_on": datetime.date(2019, 7, 22),
        "city": "Paris",
        "country": "FR",
        "parties": ["easo", "iom"],
        "areas": [area["slug"] for area in AREAS],
        "summary": (
            "A formal framework for the common work of EASO and IOM on international "
            "protection and migration management. It covers the areas where their mandates "
            "meet: safeguarding the rights of migrants and applicants for international "
            "protection, while supporting national governments in meeting their obligations "
            "and needs."
        ),
        "cited": [
            (
                "22 Jul 2019",
                "The date of the release, on which the arrangement was “signed today”.",
            ),
            SIGNING,
            PURPOSE,
            SCOPE,
            THEMATIC_AREAS,
            CROSS_CUTTING_AREAS,
            (GREGORI, "Statement by Nina Gregori, Executive Director of EASO, at the signing"),
            (VITORINO, "Statement by António Vitorino, Director General of IOM"),
        ],
    },
]

SIGNATORIES = [
    {
        "agreement": "iom-easo-working-arrangement-2019",
        "person": "nina-gregori",
        "title": "Executive Director",
        "organisation": "easo",
    },
    {
        "agreement": "iom-easo-working-arrangement-2019",
        "person": "antonio-vitorino",
        "title": "Director General",
        "organisation": "iom",
    },
]

# The release presents these as work EASO and IOM already do, not as work under
# the new arrangement: hence under way, undated and with no agreement.
JOINT_WORK_ACTIVITY = {
    "status": ActivityStatus.IMPLEMENTATION,
    "publication": Publication.PUBLISHED,
    "regions": ["european-neighbourhood"],
    "cited": [JOINT_WORK, JOINT_WORK_LIST],
}
ACTIVITIES = [
    {
        **JOINT_WORK_ACTIVITY,
        "slug": "joint-training-national-authorities",
        "title": "Joint training to national authorities",
        "description": (
            "EASO and IOM train national authorities together, as part of their support to "
            "countries in the European neighbourhood in managing migration and asylum procedures."
        ),
        "areas": ["training-initiatives"],
    },
    {
        **JOINT_WORK_ACTIVITY,
        "slug": "resettlement-coordination",
        "title": "Coordination of resettlement from non-EU countries to the EU",
        "description": (
            "EASO and IOM coordinate resettlement from non-EU countries to the EU, as part of "
            "their support to countries in the European neighbourhood."
        ),
        "areas": ["resettlement"],
        "regions": ["european-neighbourhood", "non-eu-countries"],
    },
    {
        **JOINT_WORK_ACTIVITY,
        "slug": "data-information-exchange",
        "title": "Exchange of data, information and documentation",
        "description": (
            "Exchange of data, information and documentation, part of the support EASO and IOM "
            "give to countries in the European neighbourhood in managing migration and asylum "
            "procedures."
        ),
    },
]

PARTICIPATIONS = [
    {"activity": activity["slug"], "organisation": organisation, "role": Role.IMPLEMENTING}
    for activity in ACTIVITIES
    for organisation in ["easo", "iom"]
]


def source_path():
    return Path(settings.BASE_DIR) / "fixtures" / f"{SOURCE['slug']}.txt"


def seed_path():
    return Path(settings.BASE_DIR) / "fixtures" / "seed.json"


def check_quote(quote, text):
    """Raise ValueError unless `quote` fits a citation and occurs, letter for letter, in `text`."""
    if not 0 < len(quote) <= QUOTE_MAX_LENGTH:
        raise ValueError(f"A quote has 1 to {QUOTE_MAX_LENGTH} characters, not {len(quote)}.")
    if not quote_found(quote, text):
        raise ValueError(f"Quote not found, letter for letter, in {SOURCE['slug']}: “{quote}”")


def natural(field, value):
    """A seed value as a fixture stores it: relations by natural key, dates as ISO strings."""
    if field.many_to_many:
        return [[slug] for slug in value]
    if field.many_to_one:
        return [value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def build_fixture(text=None):
    """
    Return the seed data as fixture objects with natural keys and no primary keys.

    `text` is the release; by default it is read from fixtures/. Citations come
    last, after the records they cite.
    """
    if text is None:
        text = source_path().read_text(encoding="utf-8")
    objects, citations = [], []
    for model_name, records in [
        ("organisation", ORGANISATIONS),
        ("area", AREAS),
        ("region", REGIONS),
        ("person", PEOPLE),
        ("source", [{**SOURCE, "text": text}]),
        ("agreement", AGREEMENTS),
        ("signatory", SIGNATORIES),
        ("activity", ACTIVITIES),
        ("participation", PARTICIPATIONS),
    ]:
        meta = apps.get_model("cooperation", model_name)._meta
        for record in records:
            fields = {
                name: natural(meta.get_field(name), value)
                for name, value in record.items()
                if name != "cited"
            }
            objects.append({"model": meta.label_lower, "fields": fields})
            for entry in record.get("cited", []):
                quote, note = (entry, "") if isinstance(entry, str) else entry
                check_quote(quote, text)
                if model_name in CITED_MODELS:
                    citation = {
                        "source": [SOURCE["slug"]],
                        model_name: [record["slug"]],
                        "quote": quote,
                        "note": note,
                    }
                    citations.append({"model": "cooperation.citation", "fields": citation})
    return objects + citations


def dumps(fixture):
    return json.dumps(fixture, indent=2, ensure_ascii=False) + "\n"
