"""
What a worker loads before its first request, set aside from Python's garbage collector.

Python's full collections walk every object that may be part of a cycle. A worker holds
some 130,000 of them once Django, the apps, the admin and the URLs are loaded, nearly all
kept until the worker ends, and a full collection of them took 65 to 115 ms of the request
it fell in at a million activities (the slowest of bench/run.py's API and feed pages).
freeze() moves them out of the collector's reach (gc.freeze()): it no longer walks them,
and still frees what requests leave behind. config/wsgi.py calls it once the application
is loaded; bench/run.py does the same, to time pages as a worker serves them.
"""

import gc

from django.urls import get_resolver


def freeze():
    """Load the URLs (and the views they import), collect once, and freeze what is left."""
    get_resolver().url_patterns  # noqa: B018 Loaded now, not on the first request.
    gc.collect()
    gc.freeze()
