"""One error family for the whole registry; each format's views translate it for its client.

Plain Python, no Django: parsers raise these too.
"""


class RegistryError(Exception):
    status = 400

    def __init__(self, message, *, field=None):
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self):
        return self.message


class InvalidPackage(RegistryError):
    """The uploaded file or its form does not make a valid package."""

    status = 400


class InvalidInput(RegistryError):
    """A request to change something (settings, a role, a token) that cannot be carried out
    as asked."""

    status = 400


class Conflict(RegistryError):
    """The name is taken by other bytes (released files are immutable)."""

    status = 409


class TooLarge(RegistryError):
    status = 413


class Unauthorized(RegistryError):
    """No credentials, or credentials that are not valid: the client should (re)authenticate."""

    status = 401


class Forbidden(RegistryError):
    status = 403


class NotFound(RegistryError):
    status = 404


class UpstreamFailed(RegistryError):
    """A proxy's upstream did not give what was asked (unreachable, an error answer, bytes that
    fail verification) and nothing usable is cached."""

    status = 502


class UpstreamTimeout(UpstreamFailed):
    status = 504


class MethodNotAllowed(RegistryError):
    """The repository does not take this request (an upload to a proxy)."""

    status = 405


class TooManyRequests(RegistryError):
    """Too many failed authentication attempts: the client may try again after `retry_after`
    seconds (sent as Retry-After)."""

    status = 429

    def __init__(self, message, *, retry_after, field=None):
        super().__init__(message, field=field)
        self.retry_after = retry_after
