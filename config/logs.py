"""
The log as one JSON object a line, for a log collector to read.

Each record names its time, level, logger and message and, when it was logged about a
request (Django's server errors and 503s, config.middleware, failed logins), the
request's path without its query string and the request id from
config.middleware.RequestIdMiddleware. No username, e-mail or client address is added,
and messages must not carry them either; as a safety net, anything shaped like an e-mail
address in a message or traceback is replaced (PostgreSQL's message for a duplicate
value quotes the value, "Key (email)=(...) already exists").
"""

import json
import logging
import re
from datetime import UTC, datetime

from django.http import HttpRequest

EMAIL_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def without_email_addresses(text):
    return EMAIL_ADDRESS.sub("[e-mail address]", text)


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": without_email_addresses(record.getMessage()),
        }
        request = getattr(record, "request", None)
        if isinstance(request, HttpRequest):
            entry["path"] = request.path
            entry["request_id"] = getattr(request, "request_id", None)
        if hasattr(record, "status_code"):
            entry["status"] = record.status_code
        if record.exc_info:
            entry["exception"] = without_email_addresses(self.formatException(record.exc_info))
        return json.dumps(entry)
