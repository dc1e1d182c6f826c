import logging
import re
import sys
import uuid

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.core.exceptions import BadRequest
from django.db import DatabaseError, OperationalError, connection
from django.http import HttpResponse
from django.template import loader
from django.views import defaults

NUL = "\x00"
# A request id a proxy may hand on: letters, digits and a few separators, as UUIDs have.
FORWARDED_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")
# How long a client is asked to wait after a 503 before it tries again.
RETRY_AFTER_SECONDS = 30

logger = logging.getLogger(__name__)


class RequestIdMiddleware:
    """
    Give each request an id (request.request_id), sent back as X-Request-ID and logged with
    every record about the request (config.logs). Behind a trusted proxy
    (TRUSTED_PROXY_COUNT), the proxy's own X-Request-ID is kept, so its log and this one
    meet; a client's is never believed.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        forwarded = request.headers.get("x-request-id", "")
        if settings.TRUSTED_PROXY_COUNT and FORWARDED_REQUEST_ID.fullmatch(forwarded):
            request.request_id = forwarded
        else:
            request.request_id = uuid.uuid4().hex
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


def database_answers():
    """Whether the database answers a trivial query (within the connect timeout)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return False
    return True


def plain(text, status=200):
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


class HealthCheckMiddleware:
    """
    Answer a load balancer's probes before any other middleware: /healthz (the process
    answers) and /readyz (the database answers too, else 503). They reveal nothing but
    "ok" or "unavailable", and are answered to any Host header and over plain HTTP: a load
    balancer probes each machine by its address, and Django checks ALLOWED_HOSTS and
    redirects to HTTPS only in the middleware that follows.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == "/healthz":
            return plain("ok")
        if request.path_info == "/readyz":
            return plain("ok") if database_answers() else plain("unavailable", status=503)
        return self.get_response(request)


def service_unavailable():
    """The site's 503 page, rendered with no request: no context processor, no query."""
    response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    """
    The 503 page, with Retry-After, for a view that failed because the database could not
    serve it: refused or timed-out connection, statement cancelled by the statement
    timeout, SQLite database locked or unreadable. Django raises OperationalError for
    all of them; any other error stays a server error.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError):
            return None
        return database_unavailable(request, exception)


def database_unavailable(request, exception):
    """The 503 page for `exception`, an OperationalError, logged."""
    # The driver's error names what happened (QueryCanceled, a refused connection) in its
    # first line; further lines may quote the statement.
    cause = exception.__cause__ or exception
    reason = str(cause).strip().partition("\n")[0][:200]
    logger.warning(
        "Database unavailable: %s: %s",
        type(cause).__name__,
        reason,
        extra={"request": request, "status_code": 503},
    )
    return service_unavailable()


def server_error(request):
    """
    handler500: the 503 page when the database failed outside a view, where
    DatabaseUnavailableMiddleware does not see it (a middleware saving the session as the
    response goes out, say); Django's 500 page for anything else. Django calls it while
    handling the exception, so sys.exception() is the error.
    """
    exception = sys.exception()
    if isinstance(exception, OperationalError):
        return database_unavailable(request, exception)
    return defaults.server_error(request)


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """
    django-csp's middleware: CONTENT_SECURITY_POLICY on public pages, and the looser
    ADMIN_CONTENT_SECURITY_POLICY on every page of the admin site.
    """

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only)
        match = getattr(request, "resolver_match", None)
        if not report_only and parts.config is None and match and "admin" in match.namespaces:
            parts.config = settings.ADMIN_CONTENT_SECURITY_POLICY["DIRECTIVES"]
        return parts


def holds_nul(parameters):
    return any(NUL in name or any(NUL in value for value in values) for name, values in parameters)


class RefuseNulBytesMiddleware:
    """
    Answer 400 (the site's 400 page) to a request with a NUL character in its path, or in
    the name or value of a parameter of its query string or form. PostgreSQL stores and
    compares no text holding NUL, and the admin's filters and autocomplete hand parameters
    to the database as they come, which would be a server error. Uploaded files are not
    read (a spreadsheet is full of NUL bytes), and Django drops unprintable characters
    from their names.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if NUL in request.path_info or holds_nul(request.GET.lists()) or form_holds_nul(request):
            raise BadRequest("A NUL character in the address or a form field")
        return self.get_response(request)


def form_holds_nul(request):
    """Whether a form field's name or value holds NUL; uploaded files are named, not read."""
    try:
        return holds_nul(request.POST.lists()) or holds_nul((name, []) for name in request.FILES)
    except OSError:
        # The client hung up while sending its form; CsrfViewMiddleware answers that.
        return False
