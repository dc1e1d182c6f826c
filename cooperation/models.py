from functools import reduce
from operator import or_

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.functions import Length, Lower, Replace
from django.db.models.lookups import GreaterThan, LessThanOrEqual
from django.urls import reverse
from django_countries.fields import CountryField


def choices_constraint(field, choices):
    """Refuse, in the database, a value of `field` outside `choices`."""
    return models.CheckConstraint(
        condition=Q(**{f"{field}__in": choices.values}),
        name="%(app_label)s_%(class)s_" + f"{field}_valid",
        violation_error_message=f"Unknown {field}.",
    )


class SlugManager(models.Manager):
    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


def squashed(name):
    """`name` in lower case without spaces, to compare names that differ only in those."""
    return name.lower().replace(" ", "")


class OrganisationQuerySet(models.QuerySet):
    def resembling(self, name, acronym=""):
        """
        Organisations whose name is `name` but for case and spaces, or whose acronym
        is `acronym` but for case: those an editor may be about to enter twice.
        """
        condition = Q(squashed_name=squashed(name))
        if acronym:
            condition |= Q(acronym__iexact=acronym)
        squashed_name = Replace(Lower("name"), Value(" "), Value(""))
        return self.alias(squashed_name=squashed_name).filter(condition)

    def partners_of(self, organisation):
        """
        Organisations that cooperate with `organisation`: parties to an agreement
        it is party to, or participants in a published activity it takes part in.
        """
        shared_agreement = Agreement.parties.through.objects.filter(
            organisation=OuterRef("pk"), agreement__parties=organisation
        )
        shared_activity = Participation.objects.filter(
            organisation=OuterRef("pk"),
            activity__publication=Publication.PUBLISHED,
            activity__participations__organisation=organisation,
        )
        return self.filter(Exists(shared_agreement) | Exists(shared_activity)).exclude(
            pk=organisation.pk
        )


class OrganisationKind(models.TextChoices):
    INTERNATIONAL = "international", "International organisation"
    SUPRANATIONAL = "supranational", "Supranational union"
    EU_INSTITUTION = "eu-institution", "EU institution"
    EU_AGENCY = "eu-agency", "EU agency"
    NATIONAL_AUTHORITY = "national-authority", "National authority"
    INTERNATIONAL_NGO = "international-ngo", "International NGO"
    NATIONAL_NGO = "national-ngo", "National NGO"
    ACADEMIC = "academic", "Academic, training or research"
    OTHER = "other", "Other"

    @property
    def iati_code(self):
        """The IATI OrganisationType code (codelist version 2.03)."""
        return IATI_ORGANISATION_TYPE[self]


IATI_ORGANISATION_TYPE = {
    OrganisationKind.INTERNATIONAL: "40",
    OrganisationKind.SUPRANATIONAL: "40",
    OrganisationKind.EU_INSTITUTION: "40",
    OrganisationKind.EU_AGENCY: "40",
    OrganisationKind.NATIONAL_AUTHORITY: "10",
    OrganisationKind.INTERNATIONAL_NGO: "21",
    OrganisationKind.NATIONAL_NGO: "22",
    OrganisationKind.ACADEMIC: "80",
    OrganisationKind.OTHER: "90",
}


class AreaKind(models.TextChoices):
    THEMATIC = "thematic", "Thematic"
    CROSS_CUTTING = "cross-cutting", "Cross-cutting"


class AgreementKind(models.TextChoices):
    WORKING_ARRANGEMENT = "working-arrangement", "Working arrangement"
    MEMORANDUM = "memorandum", "Memorandum of understanding"
    EXCHANGE_OF_LETTERS = "exchange-of-letters", "Exchange of letters"
    COOPERATION_AGREEMENT = "cooperation-agreement", "Cooperation agreement"
    FRAMEWORK_AGREEMENT = "framework-agreement", "Framework agreement"
    OTHER = "other", "Other"


class ActivityStatus(models.TextChoices):
    PIPELINE = "pipeline", "Pipeline or identification"
    IMPLEMENTATION = "implementation", "Implementation"
    FINALISATION = "finalisation", "Finalisation"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"
    SUSPENDED = "suspended", "Suspended"

    @property
    def iati_code(self):
        """The IATI ActivityStatus code (codelist version 2.03)."""
        return str(list(ActivityStatus).index(self) + 1)


class Role(models.TextChoices):
    FUNDING = "funding", "Funding"
    ACCOUNTABLE = "accountable", "Accountable"
    EXTENDING = "extending", "Extending"
    IMPLEMENTING = "implementing", "Implementing"

    @property
    def iati_code(self):
        """The IATI OrganisationRole code (codelist version 2.03)."""
        return str(list(Role).index(self) + 1)


class Publication(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class Organisation(models.Model):
    name = models.CharField(
        max_length=200,
        help_text="The full official name. No two organisations share a name, capitals aside.",
    )
    acronym = models.CharField(max_length=30, blank=True)
    slug = models.SlugField(
        max_length=60,
        unique=True,
        help_text=(
            "The end of the organisation's public address: the slug iom gives "
            "/organisations/iom/. Lower-case letters, digits and hyphens. Changing it "
            "breaks links to the old address."
        ),
    )
    kind = models.CharField(max_length=30, choices=OrganisationKind)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        help_text=(
            "The organisation this one belongs to, such as the European Union for an EU "
            "agency. Shown on both organisations' public pages."
        ),
    )
    city = models.CharField("headquarters city", max_length=100, blank=True)
    country = CountryField("headquarters country", blank=True)
    website = models.URLField(blank=True)
    description = models.TextField(blank=True, help_text="Shown on the organisation's public page.")

    objects = SlugManager.from_queryset(OrganisationQuerySet)()

    class Meta:
        ordering = ["name"]
        constraints = [
            choices_constraint("kind", OrganisationKind),
            models.UniqueConstraint(
                Lower("name"),
                name="%(app_label)s_%(class)s_name_unique_ignoring_case",
                violation_error_message=(
                    "An organisation with this name already exists (capitals aside)."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(parent=F("pk")),
                name="%(app_label)s_%(class)s_not_own_parent",
                violation_error_message="An organisation cannot be its own parent.",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("cooperation:organisation-detail", args=[self.slug])

    def natural_key(self):
        return (self.slug,)

    @property
    def iati_type(self):
        return OrganisationKind(self.kind).iati_code

    @property
    def short_name(self):
        return self.acronym or self.name


class Area(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(
        max_length=60,
        unique=True,
        help_text=(
            "The end of the area's public address: the slug training gives /areas/training/; "
            "also used in links to activities filtered by area. Lower-case letters, digits "
            "and hyphens. Changing it breaks links to the old address."
        ),
    )
    kind = models.CharField(max_length=20, choices=AreaKind, default=AreaKind.THEMATIC)
    description = models.TextField(
        blank=True, help_text="Shown on the area's public page and in the list of areas."
    )

    objects = SlugManager()

    class Meta:
        ordering = ["name"]
        constraints = [choices_constraint("kind", AreaKind)]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("cooperation:area-detail", args=[self.slug])

    def natural_key(self):
        return (self.slug,)


class Region(models.Model):
    """A named group of countries that a source speaks of without listing them."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(
        max_length=60,
        unique=True,
        help_text=(
            "A short fixed name for the region, used in public links to activities "
            "filtered by region and by data files that load records. Lower-case letters, "
            "digits and hyphens. Changing it breaks those links."
        ),
    )
    description = models.TextField(
        blank=True, help_text="Staff notes on what the region covers; not shown publicly yet."
    )

    objects = SlugManager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.slug,)


class Person(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(
        max_length=60,
        unique=True,
        help_text=(
            "A short fixed name for this person, used by the data files that load records "
            "(the seed data and imports) to find it. Not shown publicly. Lower-case "
            "letters, digits and hyphens; leave it unchanged once saved."
        ),
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="people"
    )
    telephone = models.CharField(max_length=50, blank=True, help_text="Staff only, never public.")
    email = models.EmailField("e-mail", blank=True, help_text="Staff only, never public.")

    objects = SlugManager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "people"

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.slug,)


class Agreement(models.Model):
    title = models.CharField(max_length=300)
    slug = models.SlugField(
        max_length=100,
        unique=True,
        help_text=(
            "A short fixed name for this agreement, used by the data files that load records "
            "(the seed data and imports) to find it. Not shown publicly. Lower-case "
            "letters, digits and hyphens; leave it unchanged once saved."
        ),
    )
    kind = models.CharField(max_length=30, choices=AgreementKind)
    signed_on = models.DateField("date signed", null=True, blank=True)
    city = models.CharField("city signed", max_length=100, blank=True)
    country = CountryField("country signed", blank=True)
    parties = models.ManyToManyField(Organisation, related_name="agreements")
    areas = models.ManyToManyField(Area, blank=True, related_name="agreements")
    summary = models.TextField(
        blank=True, help_text="What the agreement is for. Shown on its public page."
    )
    supersedes = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="superseded_by",
        help_text="The earlier agreement this one replaces. Shown on both public pages.",
    )

    objects = SlugManager()

    class Meta:
        ordering = ["-signed_on", "title"]
        constraints = [
            choices_constraint("kind", AgreementKind),
            models.CheckConstraint(
                condition=~Q(supersedes=F("pk")),
                name="%(app_label)s_%(class)s_not_superseding_itself",
                violation_error_message="An agreement cannot supersede itself.",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("cooperation:agreement-detail", args=[self.pk])

    def natural_key(self):
        return (self.slug,)


class SignatoryManager(models.Manager):
    def get_by_natural_key(self, agreement, person):
        return self.get(agreement__slug=agreement, person__slug=person)


class Signatory(models.Model):
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="signatories")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="signatures")
    title = models.CharField("title at signing", max_length=200, blank=True)
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="signatures",
        help_text="The party the person signed for.",
    )

    objects = SignatoryManager()

    class Meta:
        ordering = ["agreement", "organisation__name", "person__name"]
        verbose_name_plural = "signatories"
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "person"], name="%(app_label)s_%(class)s_once_per_agreement"
            )
        ]

    def __str__(self):
        return f"{self.person}, {self.title}" if self.title else str(self.person)

    def natural_key(self):
        return self.agreement.natural_key() + self.person.natural_key()

    natural_key.dependencies = ["cooperation.agreement", "cooperation.person"]


class ActivityQuerySet(models.QuerySet):
    def published(self):
        return self.filter(publication=Publication.PUBLISHED)

    def involving(self, organisation, role=None):
        """Activities in which `organisation` takes part (in `role`, if given)."""
        participations = Participation.objects.filter(
            activity=OuterRef("pk"), organisation=organisation
        )
        if role:
            participations = participations.filter(role=role)
        return self.filter(Exists(participations))

    def newest_first(self):
        """Latest start date first, undated activities last, then the most recently added."""
        return self.order_by(F("start_date").desc(nulls_last=True), "-pk")

    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class Activity(models.Model):
    title = models.CharField(max_length=300)
    slug = models.SlugField(
        max_length=100,
        unique=True,
        help_text=(
            "A short fixed name for this activity, used by the data files that load records "
            "(the seed data and imports) to find it. Not shown publicly. Lower-case "
            "letters, digits and hyphens; leave it unchanged once saved."
        ),
    )
    description = models.TextField(
        blank=True, help_text="Shown on the activity's public page once it is published."
    )
    status = models.CharField(
        max_length=20, choices=ActivityStatus, default=ActivityStatus.IMPLEMENTATION
    )
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    agreement = models.ForeignKey(
        Agreement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="activities",
        help_text="The agreement the activity falls under, if any.",
    )
    organisations = models.ManyToManyField(
        Organisation, through="Participation", related_name="activities"
    )
    areas = models.ManyToManyField(Area, blank=True, related_name="activities")
    countries = CountryField(multiple=True, blank=True)
    regions = models.ManyToManyField(Region, blank=True, related_name="activities")
    publication = models.CharField(
        max_length=20,
        choices=Publication,
        default=Publication.DRAFT,
        help_text="Only published activities appear on public pages.",
    )

    objects = ActivityQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "title"]
        verbose_name_plural = "activities"
        constraints = [
            choices_constraint("status", ActivityStatus),
            choices_constraint("publication", Publication),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True)
                | Q(end_date__isnull=True)
                | Q(end_date__gte=F("start_date")),
                name="%(app_label)s_%(class)s_ends_after_start",
                violation_error_message="The end date is before the start date.",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("cooperation:activity-detail", args=[self.pk])

    def natural_key(self):
        return (self.slug,)

    @property
    def is_published(self):
        return self.publication == Publication.PUBLISHED


class ParticipationManager(models.Manager):
    def get_by_natural_key(self, activity, organisation, role):
        return self.get(activity__slug=activity, organisation__slug=organisation, role=role)


class Participation(models.Model):
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="participations")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="participations"
    )
    role = models.CharField(max_length=20, choices=Role, default=Role.IMPLEMENTING)

    objects = ParticipationManager()

    class Meta:
        ordering = ["activity", "role", "organisation__name"]
        constraints = [
            choices_constraint("role", Role),
            models.UniqueConstraint(
                fields=["activity", "organisation", "role"],
                name="%(app_label)s_%(class)s_once_per_role",
            ),
        ]

    def __str__(self):
        return f"{self.organisation} ({self.get_role_display().lower()})"

    def natural_key(self):
        return self.activity.natural_key() + self.organisation.natural_key() + (self.role,)

    natural_key.dependencies = ["cooperation.activity", "cooperation.organisation"]


class Source(models.Model):
    title = models.CharField(max_length=300)
    slug = models.SlugField(
        max_length=100,
        unique=True,
        help_text=(
            "A short fixed name for this source, used by the data files that load records "
            "(the seed data and imports) to find it. Not shown publicly. Lower-case "
            "letters, digits and hyphens; leave it unchanged once saved."
        ),
    )
    publishers = models.ManyToManyField(Organisation, blank=True, related_name="sources")
    published_on = models.DateField("date published", null=True, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = CountryField(blank=True)
    url = models.URLField("URL", max_length=500, blank=True)
    text = models.TextField(
        "full text",
        help_text="The whole document, as published. Staff only: it may hold contact details.",
    )

    objects = SlugManager()

    class Meta:
        ordering = ["-published_on", "title"]

    def __str__(self):
        return self.title

    def natural_key(self):
        return (self.slug,)


#: The records a citation can support, each a nullable foreign key on Citation.
CITED_MODELS = ["organisation", "area", "region", "agreement", "activity", "person"]
QUOTE_MAX_LENGTH = 1000


class CitationQuerySet(models.QuerySet):
    def public(self):
        """Citations shown on public pages: those of persons are staff only."""
        return self.filter(person__isnull=True).select_related("source")


class CitationManager(models.Manager.from_queryset(CitationQuerySet)):
    def get_by_natural_key(self, source, cited_model, cited_slug, quote):
        return self.get(source__slug=source, quote=quote, **{f"{cited_model}__slug": cited_slug})


class Citation(models.Model):
    """The exact words of a source that support one record."""

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="citations")
    quote = models.TextField(
        help_text=(
            "Copied letter for letter from the source's full text, "
            f"at most {QUOTE_MAX_LENGTH} characters. Shown publicly on the page of the "
            "record it supports, except for a person's."
        )
    )
    note = models.CharField(
        max_length=200,
        blank=True,
        help_text="What the quote supports, if not obvious. Shown publicly beside the quote.",
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, null=True, blank=True, related_name="citations"
    )
    area = models.ForeignKey(
        Area, on_delete=models.CASCADE, null=True, blank=True, related_name="citations"
    )
    region = models.ForeignKey(
        Region, on_delete=models.CASCADE, null=True, blank=True, related_name="citations"
    )
    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, null=True, blank=True, related_name="citations"
    )
    activity = models.ForeignKey(
        Activity, on_delete=models.CASCADE, null=True, blank=True, related_name="citations"
    )
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, null=True, blank=True, related_name="citations"
    )

    objects = CitationManager()

    class Meta:
        ordering = ["source", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=reduce(
                    or_,
                    (
                        Q(**{f"{name}__isnull": name != cited for name in CITED_MODELS})
                        for cited in CITED_MODELS
                    ),
                ),
                name="%(app_label)s_%(class)s_cites_one_record",
                violation_error_message="A citation supports exactly one record.",
            ),
            models.CheckConstraint(
                condition=Q(
                    GreaterThan(Length("quote"), 0),
                    LessThanOrEqual(Length("quote"), QUOTE_MAX_LENGTH),
                ),
                name="%(app_label)s_%(class)s_quote_length",
                violation_error_message=(
                    f"A quote has between 1 and {QUOTE_MAX_LENGTH} characters."
                ),
            ),
            *(
                models.UniqueConstraint(
                    fields=["source", name, "quote"],
                    condition=Q(**{f"{name}__isnull": False}),
                    name=f"%(app_label)s_%(class)s_once_per_{name}",
                    violation_error_message=f"This {name} already cites this quote.",
                )
                for name in CITED_MODELS
            ),
        ]

    def __str__(self):
        return f"{self.source}: “{self.quote[:60]}”"

    def clean(self):
        if self.source_id and self.quote and self.quote not in self.source.text:
            raise ValidationError(
                {"quote": "This quote does not occur, letter for letter, in the source's text."}
            )

    def natural_key(self):
        return (self.source.slug, self.cited_model, self.cited.slug, self.quote)

    natural_key.dependencies = [f"cooperation.{name}" for name in ["source", *CITED_MODELS]]

    @property
    def cited_model(self):
        return next(name for name in CITED_MODELS if getattr(self, f"{name}_id"))

    @property
    def cited(self):
        return getattr(self, self.cited_model)
