import datetime

import factory

from cooperation import models


class OrganisationFactory(factory.django.DjangoModelFactory):
    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.Sequence(lambda n: f"organisation-{n}")
    kind = models.OrganisationKind.INTERNATIONAL

    class Meta:
        model = models.Organisation


class FormerNameFactory(factory.django.DjangoModelFactory):
    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Former name {n}")

    class Meta:
        model = models.FormerName


class FormerSlugFactory(factory.django.DjangoModelFactory):
    organisation = factory.SubFactory(OrganisationFactory)
    slug = factory.Sequence(lambda n: f"former-slug-{n}")

    class Meta:
        model = models.FormerSlug


class AreaFactory(factory.django.DjangoModelFactory):
    name = factory.Sequence(lambda n: f"Area {n}")
    slug = factory.Sequence(lambda n: f"area-{n}")

    class Meta:
        model = models.Area


class RegionFactory(factory.django.DjangoModelFactory):
    name = factory.Sequence(lambda n: f"Region {n}")
    slug = factory.Sequence(lambda n: f"region-{n}")

    class Meta:
        model = models.Region


class PersonFactory(factory.django.DjangoModelFactory):
    name = factory.Sequence(lambda n: f"Person {n}")
    slug = factory.Sequence(lambda n: f"person-{n}")
    organisation = factory.SubFactory(OrganisationFactory)

    class Meta:
        model = models.Person


class AgreementFactory(factory.django.DjangoModelFactory):
    title = factory.Sequence(lambda n: f"Agreement {n}")
    slug = factory.Sequence(lambda n: f"agreement-{n}")
    kind = models.AgreementKind.WORKING_ARRANGEMENT
    signed_on = datetime.date(2019, 7, 22)
    publication = models.Publication.PUBLISHED

    class Meta:
        model = models.Agreement
        skip_postgeneration_save = True

    @factory.post_generation
    def parties(self, create, extracted, **kwargs):
        if create and extracted:
            self.parties.set(extracted)


class SignatoryFactory(factory.django.DjangoModelFactory):
    agreement = factory.SubFactory(AgreementFactory)
    person = factory.SubFactory(PersonFactory)
    organisation = factory.SelfAttribute("person.organisation")
    title = "Director"

    class Meta:
        model = models.Signatory


class ActivityFactory(factory.django.DjangoModelFactory):
    title = factory.Sequence(lambda n: f"Activity {n}")
    slug = factory.Sequence(lambda n: f"activity-{n}")
    publication = models.Publication.PUBLISHED

    class Meta:
        model = models.Activity
        skip_postgeneration_save = True

    @factory.post_generation
    def areas(self, create, extracted, **kwargs):
        if create and extracted:
            self.areas.set(extracted)

    @factory.post_generation
    def countries(self, create, extracted, **kwargs):
        # Countries or their codes, such as ["FR", "DE"].
        if create and extracted:
            self.countries.set(extracted)

    @factory.post_generation
    def regions(self, create, extracted, **kwargs):
        if create and extracted:
            self.regions.set(extracted)


class ParticipationFactory(factory.django.DjangoModelFactory):
    activity = factory.SubFactory(ActivityFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = models.Role.IMPLEMENTING

    class Meta:
        model = models.Participation


class SourceFactory(factory.django.DjangoModelFactory):
    title = factory.Sequence(lambda n: f"Source {n}")
    slug = factory.Sequence(lambda n: f"source-{n}")
    text = "The parties work together on training. Contact: someone@example.org"

    class Meta:
        model = models.Source


class CitationFactory(factory.django.DjangoModelFactory):
    source = factory.SubFactory(SourceFactory)
    quote = "work together on training"

    class Meta:
        model = models.Citation
