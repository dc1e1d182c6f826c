"""
The addresses of records' public pages, made without calling reverse() for each record.
A list of 25 activities links to some 150 records, and reverse() took a third of the time
to write their items. The path of each kind of page is reversed once, with a key that
every path converter accepts, and split around it; a record's address is the parts with
its key between them, after the script prefix of the moment (a site served below a
path).
"""

import functools
from urllib.parse import quote

from django.urls import get_script_prefix, reverse

#: A key that every path converter of a record's address accepts.
KEY_SENTINEL = "1234567890"
#: What reverse() leaves unquoted in a key.
SAFE = "!$&'()*+,;=/~:@"


@functools.cache
def parts(url_name):
    """The path of the page `url_name` before and after its key, without the script prefix."""
    path = reverse(f"cooperation:{url_name}", args=[KEY_SENTINEL])
    prefix, _, suffix = path[len(get_script_prefix()) :].rpartition(KEY_SENTINEL)
    return prefix, suffix


def address_parts(url_name):
    """The address of a page `url_name` before and after its key."""
    prefix, suffix = parts(url_name)
    return get_script_prefix() + prefix, suffix


def record_url(url_name, key):
    """The address of the page `url_name` of the record whose key is `key`."""
    prefix, suffix = address_parts(url_name)
    return f"{prefix}{quote(str(key), safe=SAFE)}{suffix}"
