from django import template

from cooperation.models import is_web_address

register = template.Library()


@register.filter
def web_address(value):
    """
    `value` if it is an http:// or https:// address, else "": a page links to nothing
    else, even if another scheme reached the database past its constraint.
    """
    return value if value and is_web_address(value) else ""
