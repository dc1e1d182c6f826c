"""
The read-only JSON API (Django REST framework, documented by drf-spectacular).

Each public list is served at /api/<plural>/ and, the same view, at the list page's `.json`
twin (/activities.json?area=training): the list page's published queryset, its FilterSet,
its order and its pages (numbered, then keyset cursors past paging.COUNT_LIMIT rows), as
JSON; with `?page=all`, every row at once (up to exports.EXPORT_LIMIT), written as it is
read. A record is served at /api/<plural>/<key>/. Every record carries its public page
and the sources it rests on. Nothing here writes: anonymous visitors read, at
API_THROTTLE_RATE per client address.
"""

import itertools

from csp.constants import SELF
from csp.decorators import csp_replace
from django.conf import settings
from django.core.paginator import InvalidPage
from django.db import connections
from django.db.models import F, Prefetch, QuerySet
from django.http import JsonResponse, StreamingHttpResponse
from django.urls import include, path
from django.utils.html import strip_tags
from django.views import defaults
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import throttling, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from . import cached, exports, facets, json_sql, paging
from .filters import (
    EVERY_ROW,
    PAGE_PARAMETERS,
    ActivityFilter,
    AgreementFilter,
    AreaFilter,
    OrganisationFilter,
    RegionFilter,
)
from .logins import client_address
from .models import Agreement, Organisation, Signatory, Source
from .paging import BoundedPaginator, InvalidCursor, Key, Pages, cursor_page
from .serializers import (
    ActivitySerializer,
    AgreementSerializer,
    AreaSerializer,
    OrganisationSerializer,
    RegionSerializer,
    SourceSerializer,
)
from .views import (
    ActivityListView,
    AgreementListView,
    AreaListView,
    FilterListView,
    OrganisationListView,
    RegionListView,
    published_agreements,
    record_citations,
)

# Filtering, paging, throttling


class ListFilterBackend(DjangoFilterBackend):
    """
    django-filter's backend with the list pages' FilterSets. It keeps the FilterSet on the
    view, where the paginator finds its `counted` rows and `known_count`, and answers an
    invalid filter with 400 and its errors as plain text (on a page they are links). A list
    with facets takes its number from the table of counts where the page does (counts.py);
    a view with `unfiltered_count()` takes its unfiltered number from there.
    """

    def filter_queryset(self, request, queryset, view):
        view.filterset = self.get_filterset(request, queryset, view)
        if view.filterset is None:
            return queryset
        if not view.filterset.is_valid():
            raise ValidationError(
                {
                    name: [strip_tags(message) for message in messages]
                    for name, messages in view.filterset.errors.items()
                }
            )
        rows = view.filterset.qs
        listed = getattr(view, "list_view", None)
        total = None
        if listed is not None:
            total = facets.known_total(
                listed.facet_fields, listed.list_name, view.filterset, request.query_params
            )
        elif hasattr(view, "unfiltered_count") and not facets.active_names(view.filterset):
            total = view.unfiltered_count()
        if total is not None:
            view.filterset.known_count = min(total, paging.COUNT_LIMIT + 1)
        return rows


#: Rows read, with their related rows, and written at a time by `page=all` (Serialized): at
#: a million activities a worker reading 1,000 at a time passed 150 MB.
ALL_CHUNK = 250


def chunks_of(rows, size, limit):
    """The first `limit` (None: all) of `rows` (a queryset or a search.Ranked), `size` at a time."""
    if isinstance(rows, QuerySet):
        read = rows[:limit].iterator(chunk_size=size)
        while chunk := list(itertools.islice(read, size)):
            yield chunk
        return
    end = len(rows) if limit is None else min(len(rows), limit)
    for start in range(0, end, size):
        yield rows[start : min(start + size, end)]


class Serialized:
    """
    The JSON of `rows`, each record after a comma, written ALL_CHUNK at a time by
    `serialize` (a list's serializer of many) as the API renders it: at most `limit` (None:
    all), `truncated` if the list has more, `count` of those written (as json_sql.Written).
    """

    def __init__(self, rows, serialize, limit):
        self.rows, self.serialize, self.limit = rows, serialize, limit
        self.count, self.truncated = 0, False

    def __iter__(self):
        renderer = JSONRenderer()
        past = None if self.limit is None else self.limit + 1
        for chunk in chunks_of(self.rows, ALL_CHUNK, past):
            if self.limit is not None and self.count + len(chunk) > self.limit:
                chunk, self.truncated = chunk[: self.limit - self.count], True
            if chunk:
                yield b"," + renderer.render(self.serialize(chunk))[1:-1]
                self.count += len(chunk)


def every_row(written, everything):
    """
    The JSON of one page that holds every record of `written` (Serialized or
    json_sql.Written): its count the records it holds, exact unless the list has more
    ("truncated"), its links null; past its limit, "everything" is `everything()`, the
    address of the whole list.
    """
    yield b'{"results":['
    for number, text in enumerate(written):
        yield text[1:] if number == 0 else text  # Each record after a comma but the first.
    truncated = written.truncated
    tail = {"count": written.count, "count_is_exact": not truncated}
    tail |= dict.fromkeys(["first", "previous", "next", "last"]) | {"truncated": truncated}
    if truncated:
        tail["everything"] = everything()
    yield b"]," + JSONRenderer().render(tail)[1:]


def written_activities(rows, origin, limit):
    """
    The JSON of the activities `rows`, `origin` the site's address: on PostgreSQL written by
    the database (json_sql.py), elsewhere by ActivitySerializer.
    """
    if connections[exports.database(rows)].vendor == "postgresql":
        return json_sql.Written(rows, origin, limit)
    context = {"origin": origin}
    return Serialized(
        rows, lambda chunk: ActivitySerializer(chunk, many=True, context=context).data, limit
    )


def dump_activities(path):
    """Every published activity as JSON, written to `path`, as `page=all` writes the list."""
    rows = ActivityFilter(None, queryset=ActivityViewSet.queryset.all()).qs
    written = written_activities(rows, settings.PUBLIC_URL, None)
    with path.open("wb") as file:
        for piece in every_row(written, None):
            file.write(piece)


class ListPagination(BasePagination):
    """
    The pages of the list pages (views.FilterListView), from paging.py: numbered pages over
    the first paging.COUNT_LIMIT rows, then keyset cursors in the list's order (`after`,
    `before`); the count stops past COUNT_LIMIT ("count_is_exact": false).
    """

    page_size = FilterListView.paginate_by

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        filterset = getattr(view, "filterset", None)
        counted = queryset
        if filterset is not None and isinstance(queryset, QuerySet) and queryset is filterset.qs:
            counted = filterset.counted
        known_count = filterset.known_count if filterset is not None else None
        if known_count is None:
            known_count = getattr(view, "known_count", None)
        key = Key.of(queryset)
        after, before = request.query_params.get("after"), request.query_params.get("before")
        if after or before:
            page = self.cursor_page(queryset, key, after, before)
            paginator = None
            self.count = known_count or paging.bounded_count(counted)
        else:
            paginator = BoundedPaginator(queryset, self.page_size, counted=counted)
            if known_count is not None and isinstance(queryset, QuerySet):
                paginator.count = known_count  # Counted already, the same rows.
            page = self.numbered_page(paginator, request.query_params.get("page") or 1)
            self.count = paginator.count
        self.pages = Pages.of(paginator, page, key)
        return list(page.object_list)

    def cursor_page(self, queryset, key, after, before):
        name = "before" if before else "after"
        try:
            if after and before:
                raise InvalidCursor("A page link names either the rows after or before a row.")
            if key is None:
                raise InvalidCursor("This list cannot be paged from a row in this order.")
            return cursor_page(queryset, key, after or before, bool(before), self.page_size)
        except InvalidCursor as error:
            raise ValidationError({name: [str(error)]}) from None

    def numbered_page(self, paginator, number):
        """The numbered page, or 404, as Django's list views answer `?page=`."""
        try:
            number = paginator.num_pages if number == "last" else int(number)
            return paginator.page(number)
        except (ValueError, InvalidPage):
            raise NotFound("No such page.") from None

    def link(self, **page):
        """This list's address with `page` (one page parameter, or none for the first)."""
        query = self.request.query_params.copy()
        for name in PAGE_PARAMETERS:
            query.pop(name, None)
        for name, value in page.items():
            query[name] = str(value)
        address = f"{self.request.path}?{query.urlencode()}" if query else self.request.path
        return self.request.build_absolute_uri(address)

    def get_paginated_response(self, data):
        pages = self.pages
        previous = next_ = None
        if pages.previous_page:
            previous = self.link(page=pages.previous_page)
        elif pages.previous_cursor:
            previous = self.link(before=pages.previous_cursor)
        if pages.next_page:
            next_ = self.link(page=pages.next_page)
        elif pages.next_cursor:
            next_ = self.link(after=pages.next_cursor)
        return Response(
            {
                "count": min(self.count, paging.COUNT_LIMIT),
                "count_is_exact": self.count <= paging.COUNT_LIMIT,
                "first": self.link() if pages.first_page else None,
                "previous": previous,
                "next": next_,
                "last": self.link(page=pages.last_page) if pages.last_page else None,
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": ["count", "count_is_exact", "first", "previous", "next", "last"],
            "properties": {
                "count": {
                    "type": "integer",
                    "minimum": 0,
                    "description": (
                        f"The number of matching records, counted up to {paging.COUNT_LIMIT:,}; "
                        "with page=all, the records it holds."
                    ),
                },
                "count_is_exact": {
                    "type": "boolean",
                    "description": (
                        f"False when more records match than the count: past {paging.COUNT_LIMIT:,}"
                        f", or with page=all past the {exports.EXPORT_LIMIT:,} it holds."
                    ),
                },
                "first": link,
                "previous": link,
                "next": link,
                "last": link,
                "results": schema,
                "truncated": {
                    "type": "boolean",
                    "description": (
                        f"With page=all: whether more than the {exports.EXPORT_LIMIT:,} "
                        "records it holds match."
                    ),
                },
                "everything": {
                    "type": "string",
                    "format": "uri",
                    "description": "With page=all, when truncated: where the whole list is.",
                },
            },
        }

    def get_schema_operation_parameters(self, view):
        def parameter(name, description, schema):
            return {
                "name": name,
                "required": False,
                "in": "query",
                "description": description,
                "schema": schema,
            }

        return [
            parameter(
                "page",
                f"A page number among the first {paging.COUNT_LIMIT:,} records, or last; "
                f"or all: one page of every record, up to {exports.EXPORT_LIMIT:,}, without "
                "links to others, written as it is read.",
                {
                    "oneOf": [
                        {"type": "integer", "minimum": 1},
                        {"type": "string", "enum": ["last", EVERY_ROW]},
                    ]
                },
            ),
            parameter(
                "after", "The records after this cursor (from a next link).", {"type": "string"}
            ),
            parameter(
                "before",
                "The records before this cursor (from a previous link).",
                {"type": "string"},
            ),
        ]


class ClientAddressThrottle(throttling.AnonRateThrottle):
    """
    API_THROTTLE_RATE requests per client address, the address the login limits count
    (logins.client_address: behind TRUSTED_PROXY_COUNT proxies, the one they saw).
    """

    def get_rate(self):
        return settings.API_THROTTLE_RATE

    def get_ident(self, request):
        return client_address(request)


# Views

#: What an error answers: the filters' {"area": ["…"]}, or {"detail": "…"}.
ERROR = {
    "type": "object",
    "additionalProperties": {
        "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
    },
}


def documented(serializer, noun):
    """The schema of a list and of a record, errors included."""
    errors = {404: ERROR, 429: ERROR}
    return extend_schema_view(
        list=extend_schema(
            description=(
                f"Published {noun}, filtered, sorted and paged as the list page is; "
                "an invalid filter answers 400 with its errors."
            ),
            responses={200: serializer, 400: ERROR, **errors},
        ),
        retrieve=extend_schema(
            description=f"One of the published {noun}.", responses={200: serializer, **errors}
        ),
    )


class PublicViewSet(viewsets.ReadOnlyModelViewSet):
    """A public list, filtered, sorted and paged as its page is, and its records."""

    filter_backends = [ListFilterBackend]
    pagination_class = ListPagination
    throttle_classes = [ClientAddressThrottle]

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset  # A record is found by its key alone.
        return super().filter_queryset(queryset)

    def list(self, request, *args, **kwargs):
        if request.query_params.get("page") != EVERY_ROW:
            return super().list(request, *args, **kwargs)
        rows = self.filter_queryset(self.get_queryset())
        return StreamingHttpResponse(self.every_row(rows), content_type="application/json")

    def every_row(self, rows):
        """
        The JSON of `rows`, all of them up to exports.EXPORT_LIMIT, written a chunk at a
        time (written()) as one page (every_row()). Past the limit, "everything" is the
        address of the whole list: a file that `manage.py dump_exports` writes, or the
        list's own pages.
        """
        written = self.written(rows, exports.EXPORT_LIMIT)
        return every_row(written, lambda: self.request.build_absolute_uri(self.everything()))

    def written(self, rows, limit):
        """The JSON of `rows` as Serialized writes it, by the list's serializer."""
        return Serialized(rows, lambda chunk: self.get_serializer(chunk, many=True).data, limit)

    def everything(self):
        """The address of the whole list: its nightly CSV, or its own pages."""
        table = exports.TABLES.get(self.request.resolver_match.url_name.removesuffix("-json"))
        return exports.dump_url("", table, "csv") if table else self.request.path


@documented(ActivitySerializer, "activities")
class ActivityViewSet(PublicViewSet):
    queryset = ActivityListView.queryset.prefetch_related(
        Prefetch("agreement", queryset=Agreement.objects.public()),
        "countries",
        "regions",
        record_citations(),
    )
    filterset_class = ActivityFilter
    serializer_class = ActivitySerializer
    list_view = ActivityListView

    def written(self, rows, limit):
        origin = self.request.build_absolute_uri("/")[:-1]  # As serializers.absolute() has it.
        return written_activities(rows, origin, limit)

    def everything(self):
        """The nightly JSON of every published activity."""
        return reverse("cooperation:export-dump", args=[exports.JSON_DUMP])


@documented(AgreementSerializer, "agreements")
class AgreementViewSet(PublicViewSet):
    queryset = AgreementListView.queryset.prefetch_related(
        Prefetch("supersedes", queryset=Agreement.objects.public()),
        published_agreements("superseded_by"),
        "areas",
        Prefetch(
            "signatories",
            queryset=Signatory.objects.for_parties()
            .select_related("person", "organisation")
            .defer("person__telephone", "person__email"),
        ),
        record_citations(),
    )
    filterset_class = AgreementFilter
    serializer_class = AgreementSerializer
    list_view = AgreementListView


@documented(OrganisationSerializer, "organisations")
class OrganisationViewSet(PublicViewSet):
    queryset = OrganisationListView.queryset.prefetch_related(record_citations())
    filterset_class = OrganisationFilter
    serializer_class = OrganisationSerializer
    lookup_field = "slug"

    def unfiltered_count(self):
        """
        The number of public organisations: the ids their list is read by, kept in the
        cache (cached.public_organisation_ids). Counting them again in the query planned
        the list of 2,000 ids twice, 10 ms at a million activities.
        """
        return len(cached.public_organisation_ids())


@documented(AreaSerializer, "areas")
class AreaViewSet(PublicViewSet):
    queryset = AreaListView.queryset.prefetch_related(record_citations())
    filterset_class = AreaFilter
    serializer_class = AreaSerializer
    lookup_field = "slug"


@documented(RegionSerializer, "regions")
class RegionViewSet(PublicViewSet):
    queryset = RegionListView.queryset.prefetch_related(record_citations())
    filterset_class = RegionFilter
    serializer_class = RegionSerializer
    lookup_field = "slug"


@documented(SourceSerializer, "sources")
class SourceViewSet(PublicViewSet):
    """Sources cited on a public record, latest first; without their full text."""

    queryset = (
        Source.objects.cited_publicly()
        .defer("text")
        .prefetch_related(Prefetch("publishers", queryset=Organisation.objects.public()))
        .order_by(F("published_on").desc(nulls_last=True), "-pk")
    )
    serializer_class = SourceSerializer

    @property
    def known_count(self):
        """The list's number, unfiltered, from the cache (cached.public_source_count)."""
        return cached.public_source_count()


#: The API's lists, by the name of each in the root's answer and its URL name.
ENDPOINTS = {
    "organisations": "organisation-list",
    "areas": "area-list",
    "regions": "region-list",
    "agreements": "agreement-list",
    "activities": "activity-list",
    "sources": "source-list",
}
ROOT = {
    "type": "object",
    "properties": {
        "endpoints": {
            "type": "object",
            "properties": {name: {"type": "string", "format": "uri"} for name in ENDPOINTS},
        },
        "schema": {"type": "string", "format": "uri"},
        "docs": {"type": "string", "format": "uri"},
    },
}


class RootView(APIView):
    """Where the API starts: the address of each list, of the schema and of its documentation."""

    throttle_classes = [ClientAddressThrottle]

    @extend_schema(
        description=(
            "The address of each list of the API, of its OpenAPI 3 schema and of its documentation."
        ),
        responses={200: ROOT, 429: ERROR},
    )
    def get(self, request):
        def url(name):
            return reverse(f"cooperation:api:{name}", request=request)

        return Response(
            {
                "endpoints": {noun: url(name) for noun, name in ENDPOINTS.items()},
                "schema": url("schema"),
                "docs": url("docs"),
            }
        )


class SchemaView(SpectacularAPIView):
    throttle_classes = [ClientAddressThrottle]


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI, its script a file of its own, as the site's policy has no inline code."""

    template_name = "cooperation/api_docs.html"
    url_name = "cooperation:api:schema"
    throttle_classes = [ClientAddressThrottle]


def answers_json(request):
    return request.path_info.startswith("/api/") or request.path_info.endswith(".json")


def bad_request(request, exception):
    """
    The 400 answer to a request refused before any view (a NUL character in its query, a
    malformed header): JSON from the API and the .json twins, the site's page elsewhere.
    """
    if answers_json(request):
        return JsonResponse({"detail": "This request is malformed."}, status=400)
    return defaults.bad_request(request, exception)


def page_not_found(request, exception):
    """The 404 answer to an address no view serves: JSON under /api/, the site's page elsewhere."""
    if answers_json(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def only_api_paths(endpoints, **kwargs):
    """drf-spectacular's hook: the schema describes /api/, not the lists' .json twins."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/")]


LIST, RECORD = {"get": "list"}, {"get": "retrieve"}

urlpatterns = [
    path("", RootView.as_view(), name="root"),
    path("schema/", SchemaView.as_view(), name="schema"),
    # Swagger UI's stylesheet draws its icons from data: URLs; its scripts are files here.
    path("docs/", csp_replace({"img-src": [SELF, "data:"]})(DocsView.as_view()), name="docs"),
    path("activities/", ActivityViewSet.as_view(LIST), name="activity-list"),
    path("activities/<int:pk>/", ActivityViewSet.as_view(RECORD), name="activity-detail"),
    path("agreements/", AgreementViewSet.as_view(LIST), name="agreement-list"),
    path("agreements/<int:pk>/", AgreementViewSet.as_view(RECORD), name="agreement-detail"),
    path("organisations/", OrganisationViewSet.as_view(LIST), name="organisation-list"),
    path(
        "organisations/<slug:slug>/",
        OrganisationViewSet.as_view(RECORD),
        name="organisation-detail",
    ),
    path("areas/", AreaViewSet.as_view(LIST), name="area-list"),
    path("areas/<slug:slug>/", AreaViewSet.as_view(RECORD), name="area-detail"),
    path("regions/", RegionViewSet.as_view(LIST), name="region-list"),
    path("regions/<slug:slug>/", RegionViewSet.as_view(RECORD), name="region-detail"),
    path("sources/", SourceViewSet.as_view(LIST), name="source-list"),
    path("sources/<int:pk>/", SourceViewSet.as_view(RECORD), name="source-detail"),
]
#: For cooperation/urls.py: the API at /api/, its names in the namespace cooperation:api.
urls = include((urlpatterns, "api"))

#: The .json twin of each list page: the API's list at the page's address, the same query.
json_twins = [
    path("activities.json", ActivityViewSet.as_view(LIST), name="activity-list-json"),
    path("agreements.json", AgreementViewSet.as_view(LIST), name="agreement-list-json"),
    path("organisations.json", OrganisationViewSet.as_view(LIST), name="organisation-list-json"),
    path("areas.json", AreaViewSet.as_view(LIST), name="area-list-json"),
    path("regions.json", RegionViewSet.as_view(LIST), name="region-list-json"),
]
