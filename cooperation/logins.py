"""
Limits on failed logins, on top of django-axes (see the AXES_* settings).

Axes counts failures per (account, client address) and refuses that pair once it
reaches AXES_FAILURE_LIMIT. Axes compares every count with that one limit, so the
second, higher limit per address (LOGIN_FAILURE_LIMIT_PER_ADDRESS) lives in
`LoginAttemptHandler`. No account is ever locked by its username alone: a stranger
guessing an editor's password locks only their own address.
"""

import ipaddress
import logging

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.shortcuts import render

logger = logging.getLogger(__name__)


def client_address(request):
    """
    The client's address: REMOTE_ADDR, or, behind TRUSTED_PROXY_COUNT proxies, the
    entry the outermost proxy appended to X-Forwarded-For. Entries further left were
    written by the client and are never believed.
    """
    if settings.TRUSTED_PROXY_COUNT:
        forwarded = request.headers.get("x-forwarded-for", "").split(",")
        forwarded = [entry.strip() for entry in forwarded if entry.strip()]
        if len(forwarded) >= settings.TRUSTED_PROXY_COUNT:
            try:
                return str(ipaddress.ip_address(forwarded[-settings.TRUSTED_PROXY_COUNT]))
            except ValueError:
                pass
    return request.META.get("REMOTE_ADDR")


def address_failures(request):
    """Failed logins from the request's address within the cool-off time, for any account."""
    attempts = AccessAttempt.objects.filter(
        ip_address=request.axes_ip_address, attempt_time__gte=get_cool_off_threshold(request)
    )
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


class LoginAttemptHandler(AxesDatabaseHandler):
    """
    Axes's database handler, with a second limit for the client address.

    Axes asks `get_failures` both before checking a password and after a failure,
    and locks when the answer reaches AXES_FAILURE_LIMIT. Once the address has
    failed LOGIN_FAILURE_LIMIT_PER_ADDRESS times, whatever the accounts, the answer
    is at least that limit, so every account is refused from that address.
    Resetting on success (AXES_RESET_ON_SUCCESS) deletes only the failures of the
    account that logged in, from its address: those also leave the address's count.
    """

    def get_failures(self, request, credentials=None):
        failures = super().get_failures(request, credentials)
        if address_failures(request) >= settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS:
            return max(failures, get_failure_limit(request, credentials))
        return failures


def lockout_response(request, original_response, credentials):
    """The page shown instead of the login form while the client is locked out."""
    minutes = int(get_cool_off(request).total_seconds() // 60)
    return render(request, "cooperation/lockout.html", {"minutes": minutes}, status=429)


def log_failed_login(sender, credentials, request=None, **kwargs):
    """
    Log a failed login (the user_login_failed signal) with the request's path and id, but
    neither the username nor the client address: a log is kept longer and read by more
    people than the admin's record of failures, and a mistyped username is often a
    password. A hash of an address would not hide it: there are only 2^32 IPv4 addresses.
    """
    logger.warning("Login failed", extra={"request": request})
