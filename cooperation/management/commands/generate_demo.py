"""
A synthetic data set for demonstrations and benchmarks, of the shape expected at a million
activities: 2,000 organisations, 3,000 agreements, 40 areas, 20 regions, 20,000 sources;
about three participations, two areas and two countries per activity. Below a million the
organisations, agreements and sources shrink with N (never below a few hundred
organisations).

Rows go in with bulk inserts in batches, link tables included; no save() and no signals, so
no history versions. Every published record meets the publish rules of models.py.
"""

import datetime
import math
import random
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from cooperation import counts, kept, partners
from cooperation.models import (
    Activity,
    ActivityStatus,
    Agreement,
    AgreementKind,
    Area,
    AreaKind,
    Citation,
    Country,
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

#: In about a quarter of activity titles; a benchmark's common search term.
COMMON_WORD = "training"
#: In one activity of every RARE_EVERY; a benchmark's rare search term.
RARE_WORD = "seismology"
RARE_EVERY = 10_000
DRAFT_SHARE = 0.1
NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)

ACTIONS = [
    "Joint",
    "Regional",
    "Technical support for",
    "Capacity building in",
    "Exchange of experts on",
    "Pilot project on",
    "Study visit on",
    "Coordination of",
    "Assessment of",
    "Workshop on",
]
TOPICS = [
    "border management",
    "asylum procedures",
    "reception conditions",
    "voluntary return",
    "resettlement",
    "labour migration",
    "child protection",
    "data exchange",
    "document fraud",
    "trafficking prevention",
    "integration",
    "early warning",
    "contingency planning",
    "civil registration",
    "health screening",
    "statistics",
]
PLACES = [
    "the Sahel",
    "the Western Balkans",
    "the Horn of Africa",
    "the Eastern Partnership",
    "Central Asia",
    "the Mediterranean",
    "West Africa",
    "the Andean region",
    "South-East Asia",
    "the Caribbean",
]
SENTENCES = [
    "The parties agreed to share information on {topic} in {place}.",
    "National authorities asked for support with {topic}.",
    "Experts from both organisations met to review progress on {topic}.",
    "A joint team visited {place} to assess needs in {topic}.",
    "The programme covers {topic} and related questions in {place}.",
    "Funding was confirmed for a second phase of the work on {topic}.",
    "Officials from {place} took part in a study visit on {topic}.",
    "The report recommends closer cooperation on {topic}.",
]
AREAS = [
    *TOPICS,
    "training",
    "capacity building",
    "research",
    "legal aid",
    "emergency response",
    "climate and mobility",
    "diaspora engagement",
    "consular cooperation",
    "visa policy",
    "readmission",
    "search and rescue",
    "gender equality",
    "human rights",
    "anti-corruption",
    "digitalisation",
    "interpretation",
    "mental health",
    "family reunification",
    "statelessness",
    "monitoring and evaluation",
    "public information",
    "vulnerable groups",
    "detention alternatives",
    "private sponsorship",
]
ORGANISATION_WORDS = [
    "Agency",
    "Office",
    "Institute",
    "Council",
    "Service",
    "Directorate",
    "Foundation",
    "Network",
    "Centre",
    "Commission",
]


def skewed(rng, count, power=2.0):
    """An index below `count`, low indices far likelier: a few big, many small."""
    return min(count - 1, int(count * rng.random() ** power))


def distinct(rng, count, how_many, power=2.0):
    picked = []
    while len(picked) < min(how_many, count):
        index = skewed(rng, count, power)
        if index not in picked:
            picked.append(index)
    return picked


def some_date(rng, start_year=2000, end_year=2026):
    start = datetime.date(start_year, 1, 1).toordinal()
    return datetime.date.fromordinal(
        rng.randrange(start, datetime.date(end_year, 12, 31).toordinal())
    )


def batched(items, size):
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Command(BaseCommand):
    help = (
        "Fill the database DATABASE_URL names with a synthetic data set of N activities and "
        "proportionate organisations, agreements, areas, regions, sources and citations. "
        "Refuses a database that already holds organisations or activities unless --force, "
        "which adds a further set beside them (its slugs and names carry a set number)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--activities", type=int, default=10_000, help="How many (N).")
        parser.add_argument("--seed", type=int, default=1, help="Same seed, same data set.")
        parser.add_argument("--batch-size", type=int, default=5_000)
        parser.add_argument(
            "--force",
            action="store_true",
            help="Add a set beside the organisations and activities already there.",
        )

    def handle(self, *args, activities, seed, batch_size, force, **options):
        if activities < 1:
            raise CommandError("--activities must be at least 1.")
        existing = Organisation.objects.exists() or Activity.objects.exists()
        if existing and not force:
            raise CommandError(
                "This database already holds organisations or activities; generate_demo "
                "adds to it only with --force."
            )
        self.rng = random.Random(seed)
        self.batch_size = batch_size
        self.set_tag = self.free_set_tag() if existing else ""
        self.started = time.monotonic()
        scale = activities / 1_000_000
        self.sizes = {
            "organisations": max(300, min(2_000, round(2_000 * math.sqrt(scale)))),
            "agreements": max(20, round(3_000 * scale)),
            "sources": max(20, round(20_000 * scale)),
            "activities": activities,
        }
        self.say(", ".join(f"{count:,} {name}" for name, count in self.sizes.items()))
        self.make_countries()
        with transaction.atomic():
            self.make_reference_data()
            self.make_sources()
            self.make_agreements()
        self.make_activities()
        partners.rebuild()
        self.say("partner pairs")
        counts.rebuild()
        self.say("facet counts")
        if kept.keep()[0]:
            self.say("kept export cells")
        self.analyze()
        self.rebuild_search()
        self.say("done")

    def say(self, message):
        elapsed = time.monotonic() - self.started
        self.stdout.write(f"[{elapsed:7.1f} s] {message}")
        self.stdout.flush()

    def free_set_tag(self):
        number = 2
        while Organisation.objects.filter(slug__startswith=f"demo{number}-").exists():
            number += 1
        return str(number)

    def slug(self, kind, index):
        return f"demo{self.set_tag}-{kind}-{index}"

    def name(self, text):
        return f"{text} (set {self.set_tag})" if self.set_tag else text

    def make_countries(self):
        # A migration loads them; a database emptied by flush has none.
        if not Country.objects.exists():
            from django_countries import countries

            Country.objects.bulk_create(
                [Country(code=code, name=str(name)) for code, name in countries],
                ignore_conflicts=True,
            )
        self.country_codes = list(Country.objects.values_list("code", flat=True))

    def make_reference_data(self):
        rng, count = self.rng, self.sizes["organisations"]
        kinds = list(OrganisationKind)
        organisations = []
        for index in range(count):
            word = ORGANISATION_WORDS[index % len(ORGANISATION_WORDS)]
            topic = TOPICS[index % len(TOPICS)]
            organisations.append(
                Organisation(
                    name=self.name(f"{word} for {topic.capitalize()} {index + 1}"),
                    acronym=f"{word[0]}{''.join(w[0] for w in topic.split()).upper()}{index + 1}",
                    slug=self.slug("organisation", index),
                    kind=kinds[index % len(kinds)],
                    city=rng.choice(["Geneva", "Brussels", "Valletta", "Vienna", "Rome", ""]),
                    country=rng.choice(self.country_codes),
                    description=f"Works on {topic} and {rng.choice(TOPICS)}.",
                )
            )
        self.organisations = Organisation.objects.bulk_create(organisations, batch_size=1000)
        # One in ten belongs to one of the first fifty, as an agency to a union.
        for organisation in self.organisations[50::10]:
            organisation.parent = self.organisations[rng.randrange(50)]
        Organisation.objects.bulk_update(self.organisations[50::10], ["parent"], batch_size=1000)

        self.areas = Area.objects.bulk_create(
            [
                Area(
                    name=self.name(name.capitalize()),
                    slug=self.slug("area", index),
                    kind=AreaKind.THEMATIC if index < 30 else AreaKind.CROSS_CUTTING,
                    description=f"Cooperation on {name}.",
                )
                for index, name in enumerate(AREAS[:40])
            ]
        )
        self.regions = Region.objects.bulk_create(
            [
                Region(
                    name=self.name(f"{place[0].upper()}{place[1:]} {index // len(PLACES) + 1}"),
                    slug=self.slug("region", index),
                )
                for index, place in enumerate(PLACES * 2)
            ]
        )
        self.say(
            f"{len(self.organisations):,} organisations, {len(self.areas)} areas, "
            f"{len(self.regions)} regions"
        )

    def sentence(self):
        return self.rng.choice(SENTENCES).format(
            topic=self.rng.choice(TOPICS), place=self.rng.choice(PLACES)
        )

    def make_sources(self):
        rng = self.rng
        sources, self.source_sentences = [], []
        for index in range(self.sizes["sources"]):
            # About 3 KB: thirty sentences, some repeated, as in a real report.
            sentences = [self.sentence() for _ in range(30)]
            self.source_sentences.append(sentences)
            sources.append(
                Source(
                    title=self.name(f"Report {index + 1} on {rng.choice(TOPICS)}"),
                    slug=self.slug("source", index),
                    published_on=some_date(rng) if rng.random() < 0.9 else None,
                    city=rng.choice(["Geneva", "Brussels", ""]),
                    url=f"https://example.org/reports/{index + 1}",
                    text=" ".join(sentences),
                )
            )
        self.sources = Source.objects.bulk_create(sources, batch_size=1000)
        Publishers = Source.publishers.through
        Publishers.objects.bulk_create(
            [
                Publishers(source_id=source.pk, organisation_id=self.organisations[index].pk)
                for source in self.sources
                for index in distinct(rng, len(self.organisations), rng.randint(1, 2))
            ],
            batch_size=self.batch_size,
        )
        self.say(f"{len(self.sources):,} sources")

    def citation(self, **cited):
        """A citation of a sentence of a random source: a quote in the source's text."""
        index = self.rng.randrange(len(self.sources))
        return Citation(
            source_id=self.sources[index].pk,
            quote=self.rng.choice(self.source_sentences[index]),
            **cited,
        )

    def publication(self):
        if self.rng.random() < DRAFT_SHARE:
            return {"publication": Publication.DRAFT, "published_at": None, "changed_at": NOW}
        return {"publication": Publication.PUBLISHED, "published_at": NOW, "changed_at": NOW}

    def make_agreements(self):
        rng = self.rng
        kinds = list(AgreementKind)
        agreements, parties = [], []
        for index in range(self.sizes["agreements"]):
            topic = rng.choice(TOPICS)
            agreements.append(
                Agreement(
                    title=self.name(f"{rng.choice(kinds).label} on {topic} {index + 1}"),
                    slug=self.slug("agreement", index),
                    kind=rng.choice(kinds),
                    signed_on=some_date(rng, 1995) if rng.random() < 0.9 else None,
                    city=rng.choice(["Geneva", "Brussels", "Paris", ""]),
                    summary=f"Cooperation on {topic} and {rng.choice(TOPICS)}.",
                    **self.publication(),
                )
            )
            parties.append(distinct(rng, len(self.organisations), rng.choice([2, 2, 2, 3])))
        self.agreements = Agreement.objects.bulk_create(agreements, batch_size=1000)

        Parties, Areas = Agreement.parties.through, Agreement.areas.through
        people, party_rows, area_rows, citations = [], [], [], []
        for agreement, indices in zip(self.agreements, parties, strict=True):
            party_rows += [
                Parties(agreement_id=agreement.pk, organisation_id=self.organisations[i].pk)
                for i in indices
            ]
            area_rows += [
                Areas(agreement_id=agreement.pk, area_id=self.areas[i].pk)
                for i in distinct(rng, len(self.areas), rng.randint(1, 3), 1.5)
            ]
            citations.append(self.citation(agreement_id=agreement.pk))
            # Two signatories, each signing for one of the first two parties.
            for signer in range(2):
                people.append(
                    Person(
                        name=self.name(f"Signatory {agreement.slug} {signer + 1}"),
                        slug=f"{agreement.slug}-signatory-{signer + 1}",
                        organisation_id=self.organisations[indices[signer]].pk,
                    )
                )
        Parties.objects.bulk_create(party_rows, batch_size=self.batch_size)
        Areas.objects.bulk_create(area_rows, batch_size=self.batch_size)
        Citation.objects.bulk_create(citations, batch_size=self.batch_size)
        people = Person.objects.bulk_create(people, batch_size=1000)
        Signatory.objects.bulk_create(
            [
                Signatory(
                    agreement_id=self.agreements[number // 2].pk,
                    person_id=person.pk,
                    organisation_id=person.organisation_id,
                    title=rng.choice(["Director", "Director General", "Minister", ""]),
                )
                for number, person in enumerate(people)
            ],
            batch_size=self.batch_size,
        )
        self.say(f"{len(self.agreements):,} agreements with parties, signatories, citations")

    def new_activity(self, index):
        rng = self.rng
        topic, place = rng.choice(TOPICS), rng.choice(PLACES)
        action = COMMON_WORD.capitalize() if rng.random() < 0.25 else rng.choice(ACTIONS)
        description = " ".join(self.sentence() for _ in range(rng.randint(1, 3)))
        if index % RARE_EVERY == 0:
            description += f" Includes a module on {RARE_WORD}."
        start = some_date(rng) if rng.random() < 0.85 else None
        end = None
        if start and rng.random() < 0.6:
            end = start + datetime.timedelta(days=rng.randint(30, 1500))
        agreement = None
        if rng.random() < 0.6:
            agreement = self.agreements[skewed(rng, len(self.agreements))].pk
        return Activity(
            title=self.name(f"{action} {topic} in {place}"),
            slug=self.slug("activity", index),
            description=description,
            status=rng.choice(list(ActivityStatus)),
            start_date=start,
            end_date=end,
            agreement_id=agreement,
            **self.publication(),
        )

    def make_activities(self):
        rng, total = self.rng, self.sizes["activities"]
        roles = list(Role)
        Areas, Countries, Regions = (
            Activity.areas.through,
            Activity.countries.through,
            Activity.regions.through,
        )
        for start in range(0, total, self.batch_size):
            with transaction.atomic():
                activities = Activity.objects.bulk_create(
                    [
                        self.new_activity(index)
                        for index in range(start, min(total, start + self.batch_size))
                    ]
                )
                participations, areas, countries, regions, citations = [], [], [], [], []
                for activity in activities:
                    pk = activity.pk
                    participations += [
                        Participation(
                            activity_id=pk,
                            organisation_id=self.organisations[i].pk,
                            role=rng.choice(roles),
                        )
                        for i in distinct(rng, len(self.organisations), rng.choice([2, 3, 3, 4]))
                    ]
                    areas += [
                        Areas(activity_id=pk, area_id=self.areas[i].pk)
                        for i in distinct(rng, len(self.areas), rng.choice([1, 2, 2, 3]), 1.5)
                    ]
                    countries += [
                        Countries(activity_id=pk, country_id=code)
                        for code in rng.sample(self.country_codes, rng.choice([1, 2, 2, 3]))
                    ]
                    if rng.random() < 0.5:
                        regions.append(
                            Regions(activity_id=pk, region_id=rng.choice(self.regions).pk)
                        )
                    citations.append(self.citation(activity_id=pk))
                Participation.objects.bulk_create(participations)
                Areas.objects.bulk_create(areas)
                Countries.objects.bulk_create(countries)
                Regions.objects.bulk_create(regions)
                Citation.objects.bulk_create(citations)
            done = start + len(activities)
            if done == total or (done // self.batch_size) % 10 == 0:
                self.say(f"{done:,} of {total:,} activities")

    def analyze(self):
        # Fresh planner statistics: without them PostgreSQL plans as if the tables were empty
        # until autovacuum comes round. SQLite is left without them, as the site's own
        # database is: its queries are written for the plans SQLite then chooses, and with
        # ANALYZE's figures it read an organisation's latest activities by a full scan.
        if connection.vendor != "postgresql":
            return
        # VACUUM too, where it may run (not inside a transaction, as in a test): it marks the
        # new pages all visible, so that PostgreSQL answers from a link table's index alone
        # instead of reading every row the index points to, as it would until autovacuum.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
        self.say("analyzed")

    def rebuild_search(self):
        # Triggers (SQLite) and generated columns (PostgreSQL) index the rows as they are
        # inserted; rebuild only where the index is missing a part.
        from cooperation import search

        if not search.installed(connection):
            self.say("rebuilding the search index")
            search.rebuild(connection)
