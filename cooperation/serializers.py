"""
The API's serializers (cooperation/api.py): what a record shows, every field named. Nothing
staff only: no drafts (references to them are null), no contact details, no source texts.
"""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

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
    The absolute form of `address()`, a link of `kind` to `record`, worked out once a
    response: a page of activities names the same organisations and areas many times.
    """
    links = context.setdefault("links", {})
    key = (record._meta.label, record.pk, kind)
    if key not in links:
        links[key] = context["request"].build_absolute_uri(address())
    return links[key]


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

    def __init__(self, view_name, lookup_field="pk", **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)
        self.view_name, self.lookup_field = view_name, lookup_field

    def to_representation(self, record):
        def address():
            return reverse(self.view_name, args=[getattr(record, self.lookup_field)])

        return absolute(self.context, record, "api", address)


class OrganisationReference(serializers.ModelSerializer):
    api_url = RecordField("cooperation:api:organisation-detail", "slug")
    html_url = PageField()

    class Meta:
        model = Organisation
        fields = ["slug", "name", "acronym", "api_url", "html_url"]


class NamedReference(serializers.ModelSerializer):
    """A record named in another by its slug and name, with its two addresses."""

    html_url = PageField()

    class Meta:
        fields = ["slug", "name", "api_url", "html_url"]


class AreaReference(NamedReference):
    api_url = RecordField("cooperation:api:area-detail", "slug")

    class Meta(NamedReference.Meta):
        model = Area


class RegionReference(NamedReference):
    api_url = RecordField("cooperation:api:region-detail", "slug")

    class Meta(NamedReference.Meta):
        model = Region


class AgreementReference(serializers.ModelSerializer):
    api_url = RecordField("cooperation:api:agreement-detail")
    html_url = PageField()

    class Meta:
        model = Agreement
        fields = ["id", "title", "api_url", "html_url"]


class CountrySerializer(serializers.ModelSerializer):
    class Meta:
        model = Country
        fields = ["code", "name"]


class SourceSerializer(serializers.ModelSerializer):
    """A source as the evidence block shows it; its full text is staff only."""

    api_url = RecordField("cooperation:api:source-detail")
    publishers = OrganisationReference(many=True)
    country = serializers.CharField(source="country.code", help_text="ISO 3166-1 code, or empty.")

    class Meta:
        model = Source
        fields = ["id", "title", "publishers", "published_on", "city", "country", "url", "api_url"]


class CitationSerializer(serializers.ModelSerializer):
    """The words of a source that support a record, quoted letter for letter."""

    source = SourceSerializer()

    class Meta:
        model = Citation
        fields = ["quote", "note", "source"]


def citations():
    return CitationSerializer(source="public_citations", many=True)


class ParticipantSerializer(serializers.ModelSerializer):
    organisation = OrganisationReference()

    class Meta:
        model = Participation
        fields = ["organisation", "role"]


class ActivitySerializer(serializers.ModelSerializer):
    api_url = RecordField("cooperation:api:activity-detail")
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


class SignatorySerializer(serializers.ModelSerializer):
    """Who signed, as what and for whom; a person's contact details are staff only."""

    name = serializers.CharField(source="person.name")
    organisation = OrganisationReference()

    class Meta:
        model = Signatory
        fields = ["name", "title", "organisation"]


class AgreementSerializer(serializers.ModelSerializer):
    api_url = RecordField("cooperation:api:agreement-detail")
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


class OrganisationSerializer(serializers.ModelSerializer):
    api_url = RecordField("cooperation:api:organisation-detail", "slug")
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


class AreaSerializer(serializers.ModelSerializer):
    api_url = RecordField("cooperation:api:area-detail", "slug")
    html_url = PageField()
    citations = citations()

    class Meta:
        model = Area
        fields = ["slug", "name", "kind", "description", "api_url", "html_url", "citations"]


class RegionSerializer(serializers.ModelSerializer):
    api_url = RecordField("cooperation:api:region-detail", "slug")
    html_url = PageField()
    citations = citations()

    class Meta:
        model = Region
        fields = ["slug", "name", "description", "api_url", "html_url", "citations"]
