from csp.middleware import CSPMiddleware
from django.conf import settings
from django.core.exceptions import BadRequest

NUL = "\x00"


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
