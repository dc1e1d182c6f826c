from django import template

register = template.Library()


@register.filter
def name_on(organisation, day):
    """The former name `organisation` had on `day`, or None (see Organisation.name_on)."""
    return organisation.name_on(day)
