"""
The records a new staff member enters from one real press release: Frontex and Operation
EUNAVFOR MED IRINI sign a working arrangement (fixtures/, not the seed data). Every walk
enters these same records from the same text, and check_entered() asserts they are all there.
"""

from pathlib import Path

from django.conf import settings

from cooperation.models import Activity, Agreement, Area, Citation, Organisation, Person, Source

RELEASE = Path(settings.BASE_DIR) / "fixtures" / "frontex-irini-working-arrangement-2021-01-19.txt"


def read_release():
    """The release file's header (Address, Publisher, Date) as a dict, and the release's text."""
    header, text = RELEASE.read_text(encoding="utf-8").split("\n\n", 1)
    return dict(line.split(": ", 1) for line in header.splitlines()), text


FRONTEX = {
    "name": "European Border and Coast Guard Agency",
    "acronym": "Frontex",
    "kind": "EU agency",
    "quotes": ["Frontex, the European Border and Coast Guard Agency"],
}
IRINI = {
    "name": "EUNAVFOR MED Operation IRINI",
    "acronym": "IRINI",
    "kind": "Other",
    "quotes": [
        "EUNAVFOR MED Operation IRINI is tasked with the implementation of the United Nation "
        "Security Council Resolutions on the arms embargo on Libya through the use of aerial, "
        "satellite and maritime assets."
    ],
}
ORGANISATIONS = [FRONTEX, IRINI]

SOURCE = {
    "title": "Frontex and EUNAVFOR sign maritime security cooperation agreement",
    "published_on": "19/01/2021",
    "publisher": FRONTEX,
}

LEGGERI = {
    "name": "Fabrice Leggeri",
    "organisation": FRONTEX,
    "quotes": ["Frontex’s Executive Director Fabrice Leggeri"],
}
AGOSTINI = {
    "name": "Fabio Agostini",
    "organisation": IRINI,
    "quotes": ["Rear Admiral Fabio Agostini, the Commander of Operation IRINI"],
}
PEOPLE = [LEGGERI, AGOSTINI]

RISK_ANALYSIS = {
    "name": "Risk analysis",
    "quotes": ["information gathered as part of the agency’s risk analysis activities"],
}
SEARCH_AND_RESCUE = {
    "name": "Search and rescue",
    "quotes": ["cooperation in search and rescue operations"],
}
AREAS = [RISK_ANALYSIS, SEARCH_AND_RESCUE]

AGREEMENT = {
    "title": "Working arrangement between Frontex and Operation IRINI",
    "kind": "Working arrangement",
    "parties": [FRONTEX, IRINI],
    "areas": [RISK_ANALYSIS, SEARCH_AND_RESCUE],
    "summary": "Information from Frontex risk analysis for Operation IRINI; exchange of experts.",
    "signatories": [
        {"person": LEGGERI, "title": "Executive Director", "organisation": FRONTEX},
        {"person": AGOSTINI, "title": "Commander of Operation IRINI", "organisation": IRINI},
    ],
    "quotes": [
        "Frontex, the European Border and Coast Guard Agency and Operation EUNAVFOR MED IRINI "
        "have agreed to expand their cooperation to address challenges and threats to EU "
        "security in the Central Mediterranean region.",
        "The working arrangement was signed during a virtual ceremony by Frontex’s Executive "
        "Director Fabrice Leggeri and Rear Admiral Fabio Agostini, the Commander of Operation "
        "IRINI",
    ],
}

ACTIVITIES = [
    {
        "title": "Frontex risk analysis information for Operation IRINI",
        "description": "Vessels of interest tracked on the high seas and aerial surveillance data.",
        "participants": [FRONTEX, IRINI],
        "areas": [RISK_ANALYSIS],
        "quotes": [
            "Frontex will be supporting Operation IRINI with information gathered as part of "
            "the agency’s risk analysis activities, such as tracking vessels of interests on "
            "the high seas",
            "as well as data from its aerial surveillance in the Central Mediterranean",
        ],
    },
    {
        "title": "Exchange of experts between Frontex and Operation IRINI",
        "description": "An EUNAVFOR MED expert based at Frontex headquarters in Warsaw.",
        "participants": [FRONTEX, IRINI],
        "areas": [SEARCH_AND_RESCUE],
        "quotes": [
            "The agreement also foresees the exchange of experts.",
            "Currently, an EUNAVFOR MED expert is based at the Warsaw headquarters of Frontex "
            "to support information exchange and cooperation in search and rescue operations.",
        ],
    },
]

#: Records whose citations are entered on their own, after the source exists, by the model
#: field a citation names them with.
CITED_APART = {"organisation": ORGANISATIONS, "person": PEOPLE, "area": AREAS}


#: Every record that cites the release.
CITING = [AGREEMENT, *ACTIVITIES, *ORGANISATIONS, *PEOPLE, *AREAS]


def quotes():
    return [quote for record in CITING for quote in record["quotes"]]


def cited(record):
    """The quotes cited on a saved record, in any order."""
    return sorted(record.citations.values_list("quote", flat=True))


def check_entered():
    """Assert that the database holds the release's records, complete and ready to publish."""
    _, text = read_release()
    source = Source.objects.get()
    # Browsers send a textarea's line breaks as CRLF; the admin strips the final one.
    assert source.text.replace("\r\n", "\n") == text.strip()
    assert [o.name for o in source.publishers.all()] == [SOURCE["publisher"]["name"]]

    organisations = {o.name: o for o in Organisation.objects.all()}
    assert sorted(organisations) == sorted(o["name"] for o in ORGANISATIONS)
    for entry in ORGANISATIONS:
        assert organisations[entry["name"]].acronym == entry["acronym"]
        assert cited(organisations[entry["name"]]) == sorted(entry["quotes"])
    people = {p.name: p for p in Person.objects.select_related("organisation")}
    assert sorted(people) == sorted(p["name"] for p in PEOPLE)
    for entry in PEOPLE:
        assert people[entry["name"]].organisation.name == entry["organisation"]["name"]
        assert cited(people[entry["name"]]) == sorted(entry["quotes"])
    areas = {a.name: a for a in Area.objects.all()}
    assert sorted(areas) == sorted(a["name"] for a in AREAS)
    for entry in AREAS:
        assert cited(areas[entry["name"]]) == sorted(entry["quotes"])

    agreement = Agreement.objects.get()
    assert agreement.title == AGREEMENT["title"]
    assert names(agreement.parties) == sorted(o["name"] for o in AGREEMENT["parties"])
    assert names(agreement.areas) == sorted(a["name"] for a in AGREEMENT["areas"])
    signatories = {
        (s.person.name, s.title, s.organisation.name) for s in agreement.signatories.all()
    }
    assert signatories == {
        (s["person"]["name"], s["title"], s["organisation"]["name"])
        for s in AGREEMENT["signatories"]
    }
    assert cited(agreement) == sorted(AGREEMENT["quotes"])
    assert agreement.publication_problems() == []

    assert Activity.objects.count() == len(ACTIVITIES)
    for entry in ACTIVITIES:
        activity = Activity.objects.get(title=entry["title"])
        assert activity.agreement == agreement
        participants = sorted(p.organisation.name for p in activity.participations.all())
        assert participants == sorted(o["name"] for o in entry["participants"])
        assert names(activity.areas) == sorted(a["name"] for a in entry["areas"])
        assert cited(activity) == sorted(entry["quotes"])
        assert activity.publication_problems() == []

    assert Citation.objects.filter(source=source).count() == Citation.objects.count()
    assert Citation.objects.count() == len(quotes())


def names(related):
    return sorted(related.values_list("name", flat=True))
