from django import template

from cooperation import exports

register = template.Library()


@register.inclusion_tag("cooperation/includes/export_links.html", takes_context=True)
def export_links(context):
    """Links to the list on this page, with its filters, in each format it is exported in."""
    request = context["request"]
    return {
        "export_links": exports.export_links(request, request.resolver_match.url_name),
        "export_limit": exports.EXPORT_LIMIT,
        "xlsx_limit": exports.XLSX_LIMIT,
    }
