"""Throttling of failed authentication: wrong tokens and wrong passwords, counted per client
address and per account in CACHES["throttle"], which every worker and web node shares.

The rules (docs/security.md, "Throttling failed authentication"):

- An address with more than THROTTLE_ADDRESS_FAILURES failures in a window of
  THROTTLE_WINDOW_SECONDS is blocked for THROTTLE_WINDOW_SECONDS.
- An account (a user name, or a token's prefix) with more than THROTTLE_ACCOUNT_FAILURES
  failures is under attack for as long: each further wrong guess at it blocks the address it
  came from at once. A right credential for it is still accepted, so nobody can lock its owner
  out by guessing wrong on purpose.
- From a blocked address a password is not checked at all: a password can be guessed, so the
  answer must not tell right from wrong. A token is still checked: a right one is accepted (256
  random bits cannot be guessed, so nothing is learnt from the difference, and a build farm
  behind the same NAT as a broken job keeps working), a wrong one is answered 429.
- A successful authentication reads and writes no counter: a right token costs no cache request.

Password checks are all Django's `authenticate()` (the login pages, npm's login and token
creation), so two hooks cover them, present and future: `ThrottleBackend`, the first of
AUTHENTICATION_BACKENDS, refuses a blocked address before any password is hashed, and
`password_failed` (on the `user_login_failed` signal) counts each failure. Tokens are counted by
`registry.auth`.
"""

import hashlib
import math
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import caches
from django.shortcuts import render

from registry.errors import TooManyRequests
from registry.http import client_address


def _cache():
    return caches["throttle"]


def _key(kind, name):
    # Hashed: a user name or an address may hold characters a cache key must not.
    return f"throttle:{kind}:{hashlib.sha256(name.encode()).hexdigest()[:40]}"


def _seconds_until(deadline):
    if deadline is None:
        return None
    left = math.ceil(deadline - time.time())
    return left if left > 0 else None


def blocked(address):
    """Seconds until `address` may authenticate again, or None when it is not blocked."""
    if not settings.THROTTLE_ADDRESS_FAILURES and not settings.THROTTLE_ACCOUNT_FAILURES:
        return None
    return _seconds_until(_cache().get(_key("address-blocked", address)))


def record_failure(address, account=None):
    """Count one failed authentication from `address` at `account` (a user name or a token
    prefix, or None). Returns the seconds the address is now blocked for when this failure
    blocked it, else None."""
    cache = _cache()
    window = settings.THROTTLE_WINDOW_SECONDS
    now = time.time()
    over = _count(cache, "address", address, now, window) > settings.THROTTLE_ADDRESS_FAILURES > 0
    if account:
        account_limit = settings.THROTTLE_ACCOUNT_FAILURES
        if _count(cache, "account", account, now, window) > account_limit > 0:
            cache.add(_key("account-attacked", account), now + window, window)
            over = True
        elif account_limit and cache.get(_key("account-attacked", account)) is not None:
            over = True
    if not over:
        return None
    cache.set(_key("address-blocked", address), now + window, window)
    return window


def _count(cache, kind, name, now, window):
    """This failure counted in the current window (windows are aligned to the clock, so the key
    names the window and no expiry needs to be kept up to date); the count so far."""
    period = int(now // window)
    key = f"{_key(kind, name)}:{period}"
    left = math.ceil((period + 1) * window - now) + 1
    cache.add(key, 0, left)
    try:
        return cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, left)
        return 1


def too_many(seconds, reason=None):
    message = f"Too many failed authentication attempts: try again in {seconds} seconds."
    if reason:
        message = f"{reason}. {message}"
    return TooManyRequests(message, retry_after=seconds)


def refuse(request, seconds):
    """The TooManyRequests to raise; the request remembers the delay for ThrottleMiddleware,
    which sends it as Retry-After whichever view answers the error."""
    request.retry_after = seconds
    return too_many(seconds)


# --- passwords: Django's authenticate() --------------------------------------------------------


class ThrottleBackend:
    """The first authentication backend: from a blocked address, no password is checked.

    Not a BaseBackend: without get_user() it is never the backend a session is recorded
    against (force_login and login() pick the first backend that can load users)."""

    def authenticate(self, request, **credentials):
        if request is not None and (seconds := blocked(client_address(request))):
            raise refuse(request, seconds)
        return None  # the next backend checks the password


def password_failed(sender, credentials, request=None, **kwargs):
    """`user_login_failed`: every backend refused a password."""
    if request is None:
        return  # not a request (a management command): no address to count
    account = credentials.get(get_user_model().USERNAME_FIELD) or credentials.get("username")
    seconds = record_failure(client_address(request), str(account).lower() if account else None)
    if seconds:
        raise refuse(request, seconds)


class ThrottleMiddleware:
    """Sends Retry-After with a refusal raised above (an npm login answers it in its own format),
    and answers a refusal raised in a login form's view with the login page and the reason."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        seconds = getattr(request, "retry_after", None)
        if seconds and response.status_code == 429 and "Retry-After" not in response:
            response["Retry-After"] = str(seconds)
        return response

    def process_exception(self, request, exception):
        if not isinstance(exception, TooManyRequests):
            return None
        # Unbound: a bound form would check the password again while rendering.
        form = AuthenticationForm(request, initial={"username": request.POST.get("username", "")})
        return render(request, "registration/login.html", {
            "form": form, "next": request.POST.get("next", ""), "throttled": exception.message,
        }, status=429)
