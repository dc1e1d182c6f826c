import datetime
from functools import reduce
from operator import or_

import reversion
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, URLValidator
from django.db import models
from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.functions import Length, Lower, Replace
from django.db.models.lookups import GreaterThan, LessThanOrEqual
from django.utils import timezone
from django_countries.fields import CountryField

from .addresses import record_url
from .dates import FIRST, LAST, Precision, precision_field, shown
from .privacy import refuse_contact_details
from .quotes import nearest


def choices_constraint(field, choices):
    """Refuse, in the database, a value of `field` outside `choices`."""
    return models.CheckConstraint(
        condition=Q(**{f"{field}__in": choices.values}),
        name="%(app_label)s_%(class)s_" + f"{field}_valid",
        violation_error_message=f"Unknown {field}.",
    )


#: What a stored address may start with (capitals aside), if it is not blank: a link to
#: anything else (`javascript:`, `data:`) could run in a visitor's browser.
WEB_ADDRESS_PREFIXES = ("http://", "https://")
web_address_validator = URLValidator(
    schemes=["http", "https"],
    message="Enter an address that starts with http:// or https://.",
    code="not_web_address",  # "invalid" would take a form's "Enter a valid URL." instead
)


def is_web_address(value):
    return value.lower().startswith(WEB_ADDRESS_PREFIXES)


def web_address_constraint(field):
    """Refuse, in the database, a value of `field` that is neither blank nor a web address."""
    return models.CheckConstraint(
        condition=reduce(
            or_,
            [Q((field, ""))]
            + [Q((f"{field}__istartswith", prefix)) for prefix in WEB_ADDRESS_PREFIXES],
        ),
        name="%(app_label)s_%(class)s_" + f"{field}_http_or_https",
        violation_error_message="An address must start with http:// or https://.",
    )


def unify_line_endings(text):
    """`text` with each CRLF and each lone CR turned into LF; None stays None."""
    if text is None:
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def not_found_message(quote, text):
    """Why `quote` is refused: the nearest passage of `text` and where they first differ."""
    message = "This quote does not occur, letter for letter, in the source's text."
    near = nearest(unify_line_endings(quote), unify_line_endings(text))
    if near is None:
        return message
    return f"{message} The nearest passage is “{near.passage}”: {near.difference(quote)}."


def quote_found(quote, text):
    """
    The verbatim rule: whether `quote` occurs in `text` letter for letter. Only line endings
    may differ (a browser sends CRLF, a file holds LF); words, punctuation and every space
    inside a line must be the same.
    """
    return unify_line_endings(quote) in unify_line_endings(text)


class VerbatimFormField(forms.CharField):
    def to_python(self, value):
        return unify_line_endings(super().to_python(value))


class VerbatimTextField(models.TextField):
    """
    Text held as written, except that every line ends in LF, whichever way it is written:
    `to_python` serves forms, model validation and fixtures, `get_prep_value` (which calls
    it) every write the ORM makes, `bulk_create` and `update()` included, and `pre_save`
    the saved instance. Pair it with `line_feeds_constraint` for writes around the ORM.
    """

    def to_python(self, value):
        return unify_line_endings(super().to_python(value))

    def pre_save(self, model_instance, add):
        value = unify_line_endings(super().pre_save(model_instance, add))
        setattr(model_instance, self.attname, value)
        return value

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": VerbatimFormField, **kwargs})


def line_feeds_constraint(field):
    """Refuse, in the database, a carriage return in `field`: lines end in LF alone."""
    return models.CheckConstraint(
        condition=~Q(**{f"{field}__contains": "\r"}),
        name="%(app_label)s_%(class)s_" + f"{field}_without_carriage_return",
        violation_error_message=f"The {field} holds a carriage return; lines end in LF.",
    )


#: An IATI organisation identifier: an agency prefix (country or XI/XM, a hyphen, the
#: agency's code) and the identifier it gave, without spaces or the characters IATI refuses.
iati_identifier_validator = RegexValidator(
    r"^[A-Z]{2}-[A-Z0-9]+-[^\s/&|?]+$",
    message=(
        "Enter an IATI organisation identifier such as XM-DAC-47066: two capital letters, "
        "a hyphen, the agency's code, a hyphen and the identifier, without spaces."
    ),
)


class SlugManager(models.Manager):
    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class OrganisationManager(SlugManager):
    def get_by_natural_key(self, slug):
        """The organisation whose slug is `slug` now or was before (see FormerSlug)."""
        return self.get(self.model.slug_is(slug))


#: How far up the organisation tree a public organisation makes its ancestors public.
ORGANISATION_DEPTH = 4


#: A list narrowed to what one record links to (an area, a country, an organisation) is read
#: from whichever side is smaller. When the record has fewer links than this, they are all
#: read and the rows they name sorted; when it has more, the list is walked in its own order
#: and each row's links probed, which finds a page after about page size × rows ÷ links
#: probes. Either way a page costs a few thousand index lookups at most.
FEW_LINKS = 5_000


def linked(queryset, links, column, counting=False):
    """
    Rows of `queryset` named in the `column` of `links` (rows of a link table narrowed to
    one record), in the form that reads fewest rows for a page (see FEW_LINKS). With
    `counting`, in the form that counts fastest: from the links, whatever their number.
    """
    if counting:
        return queryset.filter(pk__in=links.values(column))
    # The ids themselves rather than a subquery: PostgreSQL would flatten the subquery into
    # a join and might walk the whole list to find its rows anyway.
    ids = list(links.order_by().values_list(column, flat=True)[:FEW_LINKS])
    if len(ids) < FEW_LINKS:
        return queryset.filter(pk__in=ids)
    return queryset.filter(Exists(links.filter(**{column: OuterRef("pk")})))


def taking_part(organisation):
    """
    The condition that an organisation is a party to a published agreement or a participant
    in a published activity; `organisation` refers to it (such as `OuterRef("pk")`). Each
    test probes the link table's index for that one organisation.
    """
    parties = Agreement.parties.through.objects.filter(
        organisation=organisation, agreement__publication=Publication.PUBLISHED
    )
    participants = Participation.objects.filter(
        organisation=organisation, activity__publication=Publication.PUBLISHED
    )
    return Exists(parties) | Exists(participants)


def on_public_record():
    """
    The conditions that a citation supports a public record (see Citation.public()), one
    for each kind of record: a citation supports a public record when any of them holds.
    """
    return [
        Q(activity__publication=Publication.PUBLISHED),
        Q(agreement__publication=Publication.PUBLISHED),
        Q(area__in=Area.objects.public()),
        Q(region__in=Region.objects.public()),
        Q(
            Exists(
                Organisation.objects.filter(
                    taking_part(OuterRef("pk")), pk=OuterRef("organisation")
                )
            )
        ),
    ]


def squashed(name):
    """`name` in lower case without spaces, to compare names that differ only in those."""
    return name.lower().replace(" ", "")


class PublicOrganisation(models.Expression):
    """
    The condition that an organisation is public, written as the list of the public ones'
    ids (see cached.py). The ids are read when the query is compiled, not when it is built,
    so a queryset made once (a filter's choices, a view's queryset) stays current.
    """

    output_field = models.BooleanField()

    def __init__(self, key=None):
        super().__init__()
        self.key = key or F("pk")

    def get_source_expressions(self):
        return [self.key]

    def set_source_expressions(self, expressions):
        (self.key,) = expressions

    def as_sql(self, compiler, connection):
        from .cached import public_organisation_ids

        ids = sorted(public_organisation_ids())
        if not ids:
            return "1 = 0", []
        key, params = compiler.compile(self.key)
        # Integers from the database, written out: no limit on the number of parameters.
        return f"{key} IN ({', '.join(str(int(pk)) for pk in ids)})", params


class OrganisationQuerySet(models.QuerySet):
    def public(self):
        """
        Organisations the public may see (see by_rule()), by the ids kept in the cache.
        """
        return self.filter(PublicOrganisation())

    def by_rule(self):
        """
        Organisations the public may see: a party to a published agreement, a participant
        in a published activity, a publisher of a source cited on a public record, and the
        organisations above any of those (parent, grandparent, up to ORGANISATION_DEPTH).
        Every test is a correlated probe of an index, so the cost grows with the number of
        organisations asked about, not with the number of activities.
        """

        def in_own_right(organisation):
            # Cited on a published activity or agreement: the records that make the others
            # public. Citations of areas, regions and organisations come with those.
            cited = Citation.objects.filter(
                Q(activity__publication=Publication.PUBLISHED)
                | Q(agreement__publication=Publication.PUBLISHED),
                source=OuterRef("source"),
            )
            publisher = Source.publishers.through.objects.filter(
                Exists(cited), organisation=organisation
            )
            return taking_part(organisation) | Exists(publisher)

        pk = OuterRef("pk")
        shown = in_own_right(pk)
        for depth in range(1, ORGANISATION_DEPTH + 1):
            below = Organisation.objects.filter(**{"__".join(["parent"] * depth): pk})
            shown |= Exists(below.filter(in_own_right(OuterRef("pk"))))
        return self.filter(shown)

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

    def with_public_parent(self):
        """
        The organisations with their parent, and `parent_is_public` set when the public
        may see that parent: an ancestor further up than ORGANISATION_DEPTH is not public.
        """
        return self.select_related("parent").annotate(
            parent_is_public=Q(parent__isnull=False, parent__in=Organisation.objects.public())
        )

    def partners_of(self, organisation):
        """
        Organisations that cooperate with `organisation`: parties to a published agreement
        it is party to, or participants in a published activity it takes part in, read
        from the pairs cooperation/partners.py keeps.
        """
        pairs = PartnerPair.objects.filter(organisation=organisation).values("partner")
        return self.filter(pk__in=pairs)


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
    PRECISE_DATES = {"name_since": FIRST}

    name = models.CharField(
        max_length=200,
        help_text=(
            "The full official name in use now. No two organisations share a name, capitals "
            "aside. When the organisation is renamed, enter its old name under former names."
        ),
    )
    acronym = models.CharField(max_length=30, blank=True)
    name_since = models.DateField(
        "name in use since",
        null=True,
        blank=True,
        help_text=(
            "When the name and acronym above took effect, if a source says so (cite it "
            "below). Shown publicly beside the former names."
        ),
    )
    name_since_precision = precision_field("precision of the date the name took effect")
    slug = models.SlugField(
        max_length=60,
        unique=True,
        help_text=(
            "The end of the organisation's public address: the slug iom gives "
            "/organisations/iom/. Lower-case letters, digits and hyphens. When it changes, "
            "the old one is kept as a former slug and its address leads to the new one."
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
    website = models.URLField(blank=True, validators=[web_address_validator])
    description = models.TextField(blank=True, help_text="Shown on the organisation's public page.")
    iati_identifier = models.CharField(
        "IATI organisation identifier",
        max_length=100,
        blank=True,
        validators=[iati_identifier_validator],
        help_text=(
            "As the organisation publishes it to IATI, such as XM-DAC-47066: a registration "
            "agency's prefix, a hyphen and the number it gave. Public, in the IATI export. "
            "Leave blank when unknown."
        ),
    )

    objects = OrganisationManager.from_queryset(OrganisationQuerySet)()

    class Meta:
        ordering = ["name"]
        # Lists and partner excerpts read organisations in this order and stop at a page.
        indexes = [models.Index(fields=["name", "id"], name="organisation_by_name")]
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
            web_address_constraint("website"),
            choices_constraint("name_since_precision", Precision),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return record_url("organisation-detail", self.slug)

    def clean(self):
        refuse_contact_details(self, "description")

    def natural_key(self):
        return (self.slug,)

    @staticmethod
    def slug_is(slug, prefix=""):
        """
        The condition that an organisation's slug is `slug`, now or before; `prefix` is the
        path to the organisation ("organisation__") from the model queried.
        """
        former = FormerSlug.objects.filter(slug=slug).values("organisation")
        return Q((f"{prefix}slug", slug)) | Q((f"{prefix}pk__in", former))

    @property
    def name_since_shown(self):
        return shown(self.name_since, self.name_since_precision)

    def name_on(self, day):
        """
        The former name in use on `day`, or None when it is the current one (or cannot be
        told). A date known only to the month or year counts as its stored day. Reads the
        former names only for a day before the current name took effect.
        """
        if day is None or self.name_since is None or day >= self.name_since:
            return None
        earlier = [
            former
            for former in self.former_names.all()
            if former.took_effect is None or former.took_effect <= day
        ]
        return earlier[-1] if earlier else None

    def name_history(self):
        """
        The former names, latest first, each with `until`: in words, the last day (or
        month or year) it was in use, when the date the next name took effect is known.
        """
        formers = list(self.former_names.all())
        following = [*formers[1:], self]
        for former, after in zip(formers, following, strict=True):
            former.until = until(*after.took_effect_with_precision)
        return formers[::-1]

    @property
    def took_effect_with_precision(self):
        return self.name_since, self.name_since_precision

    @property
    def iati_type(self):
        return OrganisationKind(self.kind).iati_code

    @property
    def short_name(self):
        return self.acronym or self.name


def until(day, precision):
    """The end of a name's use, in words, when the next one took effect on `day`."""
    if day is None:
        return ""
    if precision == Precision.DAY:
        return shown(day - datetime.timedelta(days=1), Precision.DAY)
    return shown(day, precision)


class FormerNameManager(models.Manager):
    def get_by_natural_key(self, organisation, name):
        return self.get(Organisation.slug_is(organisation, prefix="organisation__"), name=name)


class FormerName(models.Model):
    """A name an organisation had before, with its acronym and when it took effect."""

    PRECISE_DATES = {"took_effect": FIRST}

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="former_names"
    )
    name = models.CharField(max_length=200, help_text="Shown publicly, with its dates.")
    acronym = models.CharField(max_length=30, blank=True)
    took_effect = models.DateField(
        null=True,
        blank=True,
        help_text=(
            "When this name took effect, if a source says so. It was in use until the next "
            "name took effect."
        ),
    )
    took_effect_precision = precision_field("precision of the date it took effect")

    objects = FormerNameManager()

    class Meta:
        ordering = ["organisation", F("took_effect").asc(nulls_first=True), "pk"]
        constraints = [
            models.UniqueConstraint(
                "organisation",
                Lower("name"),
                name="%(app_label)s_%(class)s_once_per_organisation",
                violation_error_message="The organisation already has this former name.",
            ),
            choices_constraint("took_effect_precision", Precision),
        ]

    def __str__(self):
        return f"{self.name} ({self.acronym})" if self.acronym else self.name

    def clean(self):
        refuse_contact_details(self, "name", "acronym")

    def natural_key(self):
        return (*self.organisation.natural_key(), self.name)

    natural_key.dependencies = ["cooperation.organisation"]

    @property
    def took_effect_with_precision(self):
        return self.took_effect, self.took_effect_precision


class FormerSlug(models.Model):
    """
    A slug an organisation had before: its old address leads to the new one, and data files
    that name it still find the organisation. No slug is both a former one and a current
    one (see slugs.py).
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="former_slugs"
    )
    slug = models.SlugField(
        max_length=60,
        unique=True,
        help_text="Recorded when the slug changes. Deleting it breaks links to the old address.",
    )

    objects = SlugManager()

    class Meta:
        ordering = ["organisation", "slug"]

    def __str__(self):
        return self.slug

    def natural_key(self):
        return (self.slug,)


class AreaQuerySet(models.QuerySet):
    def public(self):
        """Areas of a published agreement or a published activity."""
        return self.filter(
            Exists(
                Agreement.areas.through.objects.filter(
                    area=OuterRef("pk"), agreement__publication=Publication.PUBLISHED
                )
            )
            | Exists(
                Activity.areas.through.objects.filter(
                    area=OuterRef("pk"), activity__publication=Publication.PUBLISHED
                )
            )
        )


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

    objects = SlugManager.from_queryset(AreaQuerySet)()

    class Meta:
        ordering = ["name"]
        constraints = [choices_constraint("kind", AreaKind)]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return record_url("area-detail", self.slug)

    def clean(self):
        refuse_contact_details(self, "description")

    def natural_key(self):
        return (self.slug,)


class RegionQuerySet(models.QuerySet):
    def public(self):
        """Regions of a published activity."""
        return self.filter(
            Exists(
                Activity.regions.through.objects.filter(
                    region=OuterRef("pk"), activity__publication=Publication.PUBLISHED
                )
            )
        )


class Region(models.Model):
    """A named group of countries that a source speaks of without listing them."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(
        max_length=60,
        unique=True,
        help_text=(
            "The end of the region's public address: the slug sahel gives /regions/sahel/; "
            "also used in public links to activities filtered by region and by data files "
            "that load records. Lower-case letters, digits and hyphens. Changing it breaks "
            "those links."
        ),
    )
    description = models.TextField(
        blank=True,
        help_text="What the region covers. Shown on its public page and in the list of regions.",
    )

    objects = SlugManager.from_queryset(RegionQuerySet)()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return record_url("region-detail", self.slug)

    def clean(self):
        refuse_contact_details(self, "description")

    def natural_key(self):
        return (self.slug,)


class CountryQuerySet(models.QuerySet):
    def public(self):
        """Countries of a published activity."""
        return self.filter(
            Exists(
                Activity.countries.through.objects.filter(
                    country=OuterRef("pk"), activity__publication=Publication.PUBLISHED
                )
            )
        )

    def get_by_natural_key(self, code):
        return self.get(code=code)


class Country(models.Model):
    """A country of ISO 3166-1, loaded by a migration from django-countries' list."""

    code = models.CharField(
        "ISO 3166-1 alpha-2 code", max_length=2, primary_key=True, help_text="Such as FR."
    )
    name = models.CharField(max_length=100)

    objects = CountryQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "countries"

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.code,)


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


class PublishableQuerySet(models.QuerySet):
    def public(self):
        """Published records: nothing that staff are still drafting."""
        return self.filter(publication=Publication.PUBLISHED)

    def changed_since_published(self):
        return self.filter(publication=Publication.PUBLISHED, changed_at__gt=F("published_at"))

    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


def published_index(*fields, name):
    """An index of published rows only: the rows every public page reads."""
    return models.Index(
        fields=list(fields), condition=Q(publication=Publication.PUBLISHED), name=name
    )


class Publishable(models.Model):
    """A record that staff draft and a Publisher makes public once it is ready."""

    publication = models.CharField(
        max_length=20,
        choices=Publication,
        default=Publication.DRAFT,
        help_text="Only published records appear on public pages. Publishers publish.",
    )
    published_at = models.DateTimeField("last published", null=True, blank=True, editable=False)
    changed_at = models.DateTimeField("last changed", default=timezone.now, editable=False)

    class Meta:
        abstract = True
        constraints = [choices_constraint("publication", Publication)]

    def save(self, *args, **kwargs):
        self.changed_at = timezone.now()
        if self.is_published and self.published_at is None:
            self.published_at = self.changed_at
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "changed_at", "published_at"}
        super().save(*args, **kwargs)

    @property
    def is_published(self):
        return self.publication == Publication.PUBLISHED

    def publish(self):
        """Publish if the record is ready; return what keeps it from being published."""
        problems = self.publication_problems()
        if not problems:
            self.publication = Publication.PUBLISHED
            self.published_at = None  # save() stamps it with the same time as the change.
            self.save()
        return problems

    def return_to_draft(self):
        self.publication = Publication.DRAFT
        self.save()


class Agreement(Publishable):
    #: Dates typed as precisely as the source gives them, and the edge of the period kept.
    PRECISE_DATES = {"signed_on": FIRST}

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
    signed_on_precision = precision_field("precision of the date signed")
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

    objects = PublishableQuerySet.as_manager()

    class Meta:
        ordering = ["-signed_on", "title"]
        permissions = [("publish_agreement", "Can publish and return agreements to draft")]
        # The feed of newly published agreements (feeds.py), as the activities' feed.
        indexes = [
            published_index("published_at", "id", name="agreement_published_by_pub"),
            models.Index(
                fields=["id"],
                condition=Q(publication=Publication.PUBLISHED, published_at__isnull=True),
                name="agreement_published_unstamped",
            ),
        ]
        constraints = [
            *Publishable.Meta.constraints,
            choices_constraint("kind", AgreementKind),
            choices_constraint("signed_on_precision", Precision),
            models.CheckConstraint(
                condition=~Q(supersedes=F("pk")),
                name="%(app_label)s_%(class)s_not_superseding_itself",
                violation_error_message="An agreement cannot supersede itself.",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return record_url("agreement-detail", self.pk)

    @property
    def signed_shown(self):
        """The date signed in words, as precisely as it is known."""
        return shown(self.signed_on, self.signed_on_precision)

    def clean(self):
        refuse_contact_details(self, "summary")

    def natural_key(self):
        return (self.slug,)

    def publication_problems(self):
        """What keeps the agreement from being published, in words for staff."""
        problems = []
        if self.parties.count() < 2:
            problems.append("it needs at least two parties")
        if not self.citations.exists():
            problems.append("it needs at least one citation")
        strays = self.signatories.exclude(organisation__in=self.parties.all())
        problems += [
            f"{signatory.person} signs for {signatory.organisation}, which is not a party"
            for signatory in strays.select_related("person", "organisation")
        ]
        return problems


class SignatoryQuerySet(models.QuerySet):
    def for_parties(self):
        """
        Signatories who sign for one of their agreement's parties. Publishing refuses any
        other, but the parties can change later; a party to a published agreement is public.
        """
        party = Agreement.parties.through.objects.filter(
            agreement=OuterRef("agreement"), organisation=OuterRef("organisation")
        )
        return self.filter(Exists(party))


class SignatoryManager(models.Manager.from_queryset(SignatoryQuerySet)):
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

    def clean(self):
        if not (self.agreement_id and self.organisation_id):
            return
        # The admin puts the parties being saved with the agreement on it before the
        # signatories are checked; elsewhere the saved parties count.
        parties = getattr(self.agreement, "submitted_parties", None)
        if parties is None:
            parties = self.agreement.parties.all()
        if self.organisation not in parties:
            raise ValidationError(
                {"organisation": "A signatory signs for one of the agreement's parties."}
            )

    def natural_key(self):
        return self.agreement.natural_key() + self.person.natural_key()

    natural_key.dependencies = ["cooperation.agreement", "cooperation.person"]


class ActivityQuerySet(PublishableQuerySet):
    def involving(self, organisation, role=None, counting=False):
        """Activities in which `organisation` takes part (in `role`, if given)."""
        participations = Participation.objects.filter(organisation=organisation)
        if role:
            participations = participations.filter(role=role)
        return linked(self, participations, "activity", counting)

    def newest_first(self):
        """Latest start date first, undated activities last, then the most recently added."""
        return self.order_by(F("start_date").desc(nulls_last=True), "-pk")


class Activity(Publishable):
    PRECISE_DATES = {"start_date": FIRST, "end_date": LAST}

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
    start_date_precision = precision_field("precision of the start date")
    end_date = models.DateField(null=True, blank=True)
    end_date_precision = precision_field("precision of the end date")
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
    countries = models.ManyToManyField(Country, blank=True, related_name="activities")
    regions = models.ManyToManyField(Region, blank=True, related_name="activities")
    #: When its organisations, areas, countries, regions, citations or agreement last
    #: changed: an export reads its kept cells (KeptCells) only if they were worked out since.
    links_changed_at = models.DateTimeField(
        "links last changed", default=timezone.now, editable=False
    )

    objects = ActivityQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "title"]
        verbose_name_plural = "activities"
        permissions = [("publish_activity", "Can publish and return activities to draft")]
        # The public lists read published activities in one of these orders, alone or with a
        # filter on the activity's own columns; filters on linked rows probe the link tables'
        # keys. PostgreSQL also gets (start_date DESC NULLS LAST, id DESC) in a migration.
        indexes = [
            published_index("start_date", "id", name="activity_published_by_start"),
            published_index("title", "id", name="activity_published_by_title"),
            published_index("status", "start_date", "id", name="activity_published_by_stat"),
            published_index("agreement", "start_date", "id", name="activity_published_by_agr"),
            # The feed of newly published activities (feeds.py), then those published
            # before the time was kept, newest first: without their own index PostgreSQL
            # reads every published activity to find that there are none.
            published_index("published_at", "id", name="activity_published_by_pub"),
            models.Index(
                fields=["id"],
                condition=Q(publication=Publication.PUBLISHED, published_at__isnull=True),
                name="activity_published_unstamped",
            ),
            models.Index(
                fields=["id"],
                condition=Q(publication=Publication.PUBLISHED, start_date__isnull=True),
                name="activity_published_undated",
            ),
            models.Index(fields=["start_date", "id"], name="activity_by_start"),
        ]
        constraints = [
            *Publishable.Meta.constraints,
            choices_constraint("status", ActivityStatus),
            choices_constraint("start_date_precision", Precision),
            choices_constraint("end_date_precision", Precision),
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

    def save(self, *args, **kwargs):
        # links_changed_at is written only by a write of links (kept.links_changed): an
        # instance read before such a write would put back a time at which kept texts of
        # the old links were true.
        stored = not self._state.adding and not kwargs.get("force_insert")
        if stored and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name != "links_changed_at"
            ]
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return record_url("activity-detail", self.pk)

    @property
    def start_shown(self):
        return shown(self.start_date, self.start_date_precision)

    @property
    def end_shown(self):
        return shown(self.end_date, self.end_date_precision)

    def clean(self):
        refuse_contact_details(self, "description")

    def natural_key(self):
        return (self.slug,)

    @property
    def public_agreement(self):
        """The agreement the activity falls under, when the public may see it."""
        return self.agreement if self.agreement and self.agreement.is_published else None

    def publication_problems(self):
        """What keeps the activity from being published, in words for staff."""
        problems = []
        if self.participations.values("organisation").distinct().count() < 2:
            problems.append("it needs at least two participating organisations")
        if not self.areas.exists():
            problems.append("it needs at least one area")
        if not self.citations.exists():
            problems.append("it needs at least one citation")
        return problems


class ParticipationManager(models.Manager):
    def get_by_natural_key(self, activity, organisation, role):
        return self.get(
            Organisation.slug_is(organisation, prefix="organisation__"),
            activity__slug=activity,
            role=role,
        )


class Participation(models.Model):
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="participations")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="participations"
    )
    role = models.CharField(max_length=20, choices=Role, default=Role.IMPLEMENTING)

    objects = ParticipationManager()

    class Meta:
        ordering = ["activity", "role", "organisation__name"]
        indexes = [models.Index(fields=["organisation", "activity"], name="participation_by_org")]
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


class FacetCount(models.Model):
    """
    How many published records of a public list have one value of one facet: the list's
    facets and charts when no filter is set, and its total (facet "all"); the facets of
    the activity list narrowed by one value of another ("activities:area=12"); and the total
    and facets of an agreement's activities ("activities:agreement=3"). Kept in step with
    every write by cooperation/counts.py; never edited by hand.
    """

    list_name = models.CharField(max_length=100)
    facet = models.CharField(max_length=30)
    #: A choice's key, a year, or a record's primary key; "" for the total.
    value = models.CharField(max_length=100, blank=True)
    count = models.IntegerField(default=0)

    class Meta:
        ordering = ["list_name", "facet", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["list_name", "facet", "value"], name="%(app_label)s_%(class)s_once"
            )
        ]

    def __str__(self):
        return f"{self.list_name} {self.facet} {self.value}: {self.count}"


class PartnerPair(models.Model):
    """
    Two organisations that take part in the same published activity or are parties to the
    same published agreement, stored both ways round. Kept in step with participations,
    parties and publication by cooperation/partners.py; never edited by hand.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="partner_pairs"
    )
    partner = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["organisation", "partner"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "partner"], name="%(app_label)s_%(class)s_once"
            ),
            models.CheckConstraint(
                condition=~Q(organisation=F("partner")),
                name="%(app_label)s_%(class)s_not_itself",
                violation_error_message="An organisation is not its own partner.",
            ),
        ]

    def __str__(self):
        return f"{self.organisation} and {self.partner}"


class KeptCells(models.Model):
    """
    The texts an export writes of one activity's linked rows (its organisations by role,
    areas, countries, regions and citations), worked out by `manage.py keep_export_cells`
    (every night) so that an export at a million activities need not join them again
    (kept.py). An export reads them only while they are still true: the activity's links
    unchanged since (`links_changed_at`), no name changed since (`names_version`), and
    the same statements to work them out (`layout`); otherwise it works them out itself.
    """

    activity = models.OneToOneField(
        Activity, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    links_changed_at = models.DateTimeField()
    #: When the activity itself last changed: its IATI element, kept but for its dates,
    #: shows its own fields too.
    changed_at = models.DateTimeField()
    names_version = models.BigIntegerField()
    layout = models.CharField(max_length=64)
    #: The cells of CSV, HXL and XLSX by the name of their column (ACTIVITY_COLUMNS).
    cells = models.JSONField()
    #: Its IATI XML element but for its dates: the part before them and the part after.
    iati_head = models.TextField()
    iati_tail = models.TextField()
    #: Its JSON (json_sql.py). Empty in rows kept before the JSON was (of a former layout,
    #: and so never read).
    json = models.TextField(default="")

    class Meta:
        verbose_name_plural = "kept cells"

    def __str__(self):
        return f"Kept cells of activity {self.activity_id}"


class NamesVersion(models.Model):
    """
    One row, whose number goes up with every save or delete of a record whose name or code
    an activity's kept cells show (an organisation, area, country, region or source): the
    cells kept before it are no longer read.
    """

    number = models.BigIntegerField(default=0)

    def __str__(self):
        return f"Names version {self.number}"


class SourceQuerySet(models.QuerySet):
    def cited_publicly(self):
        """
        Sources cited on a public record. An organisation counts here only when it is public
        in its own right (it takes part in a published agreement or activity), as its being
        the publisher of a cited source depends on this.
        """
        # One EXISTS a kind of record, each stopping at its first citation: one EXISTS of
        # their OR joined every citation of a source to activities and agreements first,
        # and took 13 s to count the public sources of a million activities.
        cited = [
            Exists(Citation.objects.filter(condition, source=OuterRef("pk")))
            for condition in on_public_record()
        ]
        return self.filter(reduce(or_, cited))


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
    url = models.URLField("URL", max_length=500, blank=True, validators=[web_address_validator])
    text = VerbatimTextField(
        "full text",
        help_text="The whole document, as published. Staff only: it may hold contact details.",
    )

    objects = SlugManager.from_queryset(SourceQuerySet)()

    class Meta:
        ordering = ["-published_on", "title"]
        constraints = [web_address_constraint("url"), line_feeds_constraint("text")]

    def __str__(self):
        return self.title

    def natural_key(self):
        return (self.slug,)


#: The records a citation can support, each a nullable foreign key on Citation.
CITED_MODELS = ["organisation", "area", "region", "agreement", "activity", "person"]
QUOTE_MAX_LENGTH = 1000


class CitationQuerySet(models.QuerySet):
    def public(self):
        """Citations of public records; those of people are staff only."""
        return self.filter(
            Q(activity__publication=Publication.PUBLISHED)
            | Q(agreement__publication=Publication.PUBLISHED)
            | Q(area__in=Area.objects.public())
            | Q(region__in=Region.objects.public())
            | Q(organisation__in=Organisation.objects.public())
        )


class CitationManager(models.Manager.from_queryset(CitationQuerySet)):
    def get_by_natural_key(self, source, cited_model, cited_slug, quote):
        if cited_model == "organisation":
            cited = Organisation.slug_is(cited_slug, prefix="organisation__")
        else:
            cited = Q((f"{cited_model}__slug", cited_slug))
        return self.get(cited, source__slug=source, quote=quote)


class Citation(models.Model):
    """The exact words of a source that support one record."""

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="citations")
    quote = VerbatimTextField(
        help_text=(
            "Copied letter for letter from the source's full text (line endings aside), "
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
            line_feeds_constraint("quote"),
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
        if self.source_id and self.quote and not quote_found(self.quote, self.source.text):
            raise ValidationError({"quote": not_found_message(self.quote, self.source.text)})
        # A person's citations are staff only: there a press contact line may be quoted.
        if self.person is None:
            refuse_contact_details(self, "quote", "note")

    def natural_key(self):
        return (self.source.slug, self.cited_model, self.cited.slug, self.quote)

    natural_key.dependencies = [f"cooperation.{name}" for name in ["source", *CITED_MODELS]]

    @property
    def cited_model(self):
        return next(name for name in CITED_MODELS if getattr(self, f"{name}_id"))

    @property
    def cited(self):
        return getattr(self, self.cited_model)


class SeedLoad(models.Model):
    """
    One run of `manage.py load_seed` that changed the database.

    A later seed version adds only the rows that no earlier load lists, so a
    seeded row that staff deleted stays deleted and one they edited stays edited.
    """

    version = models.CharField(
        max_length=64, help_text="The first 12 hex digits of the SHA-256 of the seed file."
    )
    loaded_at = models.DateTimeField(default=timezone.now)
    reset = models.BooleanField(
        default=False,
        help_text="Loaded with --reset: every seeded row was given the seed's values again.",
    )
    natural_keys = models.JSONField(
        default=dict,
        blank=True,
        help_text="The seed rows this load accounts for, as natural keys by model.",
    )

    class Meta:
        ordering = ["-loaded_at"]
        get_latest_by = "loaded_at"

    def __str__(self):
        return f"Seed data version {self.version}"


# History: every save of a curated record, through the admin or any code that opens a
# revision, stores a version of it. A record's version also holds its inline rows
# (followed one way), and a change to an inline row stores its record's version too
# (followed the other way), so a record's history and its revert include its rows.
HISTORY_FOLLOWS = {
    Organisation: ["citations", "former_names", "former_slugs"],
    FormerName: ["organisation"],
    FormerSlug: ["organisation"],
    Area: ["citations"],
    Region: ["citations"],
    Person: ["citations"],
    Agreement: ["signatories", "citations"],
    Signatory: ["agreement"],
    Activity: ["participations", "citations"],
    Participation: ["activity"],
    Source: [],
    Citation: CITED_MODELS,
}
#: Not restored by a revert, which so gives the activity's links a new time (its default).
HISTORY_EXCLUDES = {Activity: ["links_changed_at"]}
for model, follow in HISTORY_FOLLOWS.items():
    reversion.register(model, follow=follow, exclude=HISTORY_EXCLUDES.get(model, ()))
