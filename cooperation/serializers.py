"""
The API's serializers (cooperation/api.py): what a record shows, every field named. Nothing
staff only: no drafts (references to them are null), no contact details, no source texts.

A page of 25 activities writes some 1,900 records and nested references. Each serializer
reads its fields by a plan made once a response (Serializer), and each address is the
request's origin and a path made without reverse() (addresses.record_url): DRF's own
loop and reverse() took most of the time a page of the API took at a million activities.
"""

from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import SkipField

from .addresses import record_url
from .models import (
    Activity,
    Agreement,
    Area,
    Citation,
    Country,
    Organisation,
    Participation,
    Region,
    Signatory,
    Source,
)


def absolute(context, record, kind, address):
    """
    The absolute form of `address()`, a path, a link of `kind` to `record`, worked out once
    a response: a page of activities names the same organisations and areas many times.
    """
    links = context.get("links")
    if links is None:
        # The request's scheme and host, as build_absolute_uri() puts before a path (or the
        # site's address, `origin`, outside a request); a path of record_url() is quoted
        # already, as iri_to_uri() would leave it.
        origin = context.get("origin") or context["request"].build_absolute_uri("/")[:-1]
        links = context["links"] = {"": origin}
    key = (record._meta.label, record.pk, kind)
    link = links.get(key)
    if link is None:
        link = links[key] = links[""] + address()
    return link


class Serializer(serializers.ModelSerializer):
    """
    A ModelSerializer that reads its fields by a plan made on its first record: each
    field's attribute path and whether its value is written as it is (a string or an
    integer). What DRF's own loop does for every field of every record (find the readable
    fields, test each attribute for a callable) is done once. A field whose attribute is
    missing is read DRF's way, so that it is left out or null as DRF would make it.
    """

    #: Field classes whose representation of a value of this type is the value itself.
    AS_IS = {serializers.CharField: str, serializers.IntegerField: int}

    def to_representation(self, instance):
        plan = self.__dict__.get("plan")
        if plan is None:
            plan = self.__dict__["plan"] = [
                (field.field_name, field.source_attrs, self.AS_IS.get(type(field)), field)
                for field in self._readable_fields
            ]
        written = {}
        for name, attributes, as_is, field in plan:
            value = instance
            try:
                for attribute in attributes:
                    value = getattr(value, attribute)
            except (AttributeError, KeyError, ObjectDoesNotExist):
                try:
                    value = field.get_attribute(instance)
                except SkipField:
                    continue
            if value is None:
                written[name] = None
            elif type(value) is as_is:
                written[name] = value
            else:
                written[name] = field.to_representation(value)
        return written


@extend_schema_field(OpenApiTypes.URI)
class PageField(serializers.Field):
    """The address of a record's public page."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, record):
        return absolute(self.context, record, "page", record.get_absolute_url)


@extend_schema_field(OpenApiTypes.URI)
class RecordField(serializers.Field):
    """The address of a record in the API."""

    def __init__(self, url_name, lookup_field="pk", **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)
        self.url_name, self.lookup_field = url_name, lookup_field

    def to_representation(self, record):
        def address():
            return record_url(self.url_name, getattr(record, self.lookup_field))

        return absolute(self.context, record, "api", address)


class OrganisationReference(Serializer):
    api_url = RecordField("api:organisation-detail", "slug")
    html_url = PageField()

    class Meta:
        model = Organisation
        fields = ["slug", "name", "acronym", "api_url", "html_url"]


class NamedReference(Serializer):
    """A record named in another by its slug and name, with its two addresses."""

    html_url = PageField()

    class Meta:
        fields = ["slug", "name", "api_url", "html_url"]


class AreaReference(NamedReference):
    api_url = RecordField("api:area-detail", "slug")

    class Meta(NamedReference.Meta):
        model = Area


class RegionReference(NamedReference):
    api_url = RecordField("api:region-detail", "slug")

    class Meta(NamedReference.Meta):
        model = Region


class AgreementReference(Serializer):
    api_url = RecordField("api:agreement-detail")
    html_url = PageField()

    class Meta:
        model = Agreement
        fields = ["id", "title", "api_url", "html_url"]


class CountrySerializer(Serializer):
    class Meta:
        model = Country
        fields = ["code", "name"]


class SourceSerializer(Serializer):
    """A source as the evidence block shows it; its full text is staff only."""

    api_url = RecordField("api:source-detail")
    publishers = OrganisationReference(many=True)
    country = serializers.CharField(source="country.code", help_text="ISO 3166-1 code, or empty.")

    class Meta:
        model = Source
        fields = ["id", "title", "publishers", "published_on", "city", "country", "url", "api_url"]


class CitationSerializer(Serializer):
    """The words of a source that support a record, quoted letter for letter."""

    source = SourceSerializer()

    class Meta:
        model = Citation
        fields = ["quote", "note", "source"]


def citations():
    return CitationSerializer(source="public_citations", many=True)


class ParticipantSerializer(Serializer):
    organisation = OrganisationReference()

    class Meta:
        model = Participation
        fields = ["organisation", "role"]


class ActivitySerializer(Serializer):
    api_url = RecordField("api:activity-detail")
    html_url = PageField()
    agreement = AgreementReference(allow_null=True, help_text="If it is published.")
    participants = ParticipantSerializer(source="participations", many=True)
    areas = AreaReference(many=True)
    countries = CountrySerializer(many=True)
    regions = RegionReference(many=True)
    citations = citations()

    class Meta:
        model = Activity
        fields = [
            "id",
            "title",
            "description",
            "status",
            "start_date",
            "start_date_precision",
            "end_date",
            "end_date_precision",
            "agreement",
            "participants",
            "areas",
            "countries",
            "regions",
            "published_at",
            "api_url",
            "html_url",
            "citations",
        ]


class SignatorySerializer(Serializer):
    """Who signed, as what and for whom; a person's contact details are staff only."""

    name = serializers.CharField(source="person.name")
    organisation = OrganisationReference()

    class Meta:
        model = Signatory
        fields = ["name", "title", "organisation"]


class AgreementSerializer(Serializer):
    api_url = RecordField("api:agreement-detail")
    html_url = PageField()
    country = serializers.CharField(source="country.code", help_text="ISO 3166-1 code, or empty.")
    parties = OrganisationReference(many=True)
    areas = AreaReference(many=True)
    signatories = SignatorySerializer(many=True)
    supersedes = AgreementReference(allow_null=True, help_text="If it is published.")
    superseded_by = AgreementReference(source="published_superseded_by", many=True)
    citations = citations()

    class Meta:
        model = Agreement
        fields = [
            "id",
            "title",
            "kind",
            "signed_on",
            "signed_on_precision",
            "city",
            "country",
            "parties",
            "signatories",
            "areas",
            "summary",
            "supersedes",
            "superseded_by",
            "published_at",
            "api_url",
            "html_url",
            "citations",
        ]


class OrganisationSerializer(Serializer):
    api_url = RecordField("api:organisation-detail", "slug")
    html_url = PageField()
    iati_type = serializers.CharField(help_text="Its IATI OrganisationType code.")
    parent = serializers.SerializerMethodField(help_text="If it is public.")
    country = serializers.CharField(
        source="country.code", help_text="ISO 3166-1 code of its headquarters, or empty."
    )
    citations = citations()

    class Meta:
        model = Organisation
        fields = [
            "slug",
            "name",
            "acronym",
            "kind",
            "iati_type",
            "parent",
            "city",
            "country",
            "website",
            "description",
            "api_url",
            "html_url",
            "citations",
        ]

    @extend_schema_field(OrganisationReference(allow_null=True))
    def get_parent(self, organisation):
        if not organisation.parent_is_public:
            return None
        return OrganisationReference(organisation.parent, context=self.context).data


class AreaSerializer(Serializer):
    api_url = RecordField("api:area-detail", "slug")
    html_url = PageField()
    citations = citations()

    class Meta:
        model = Area
        fields = ["slug", "name", "kind", "description", "api_url", "html_url", "citations"]


class RegionSerializer(Serializer):
    api_url = RecordField("api:region-detail", "slug")
    html_url = PageField()
    citations = citations()

    class Meta:
        model = Region
        fields = ["slug", "name", "description", "api_url", "html_url", "citations"]
