"""Errors that cross RPC: services raise them, the gateway re-raises them from nameko's registry.

Each class is registered with :func:`nameko.exceptions.deserialize_to_instance`, so a service's
``raise NotFound(...)`` arrives in the gateway as the same class, where one table maps it to an
HTTP status. Arguments must be JSON primitives, since they cross the bus.
"""

from nameko.exceptions import deserialize_to_instance


class CasewireError(Exception):
    """Base of the errors services raise on purpose."""

    def __init__(self, message: str, errors: dict | None = None):
        super().__init__(message, errors)
        self.message = message
        # nameko sends exception arguments as strings when they are not JSON primitives or
        # containers, so an absent ``errors`` (None) arrives at the gateway as "None": keep dicts only.
        self.errors = errors if isinstance(errors, dict) else {}

    def __str__(self) -> str:
        return self.message


@deserialize_to_instance
class InvalidInput(CasewireError):
    """The input failed validation; ``errors`` maps field paths to messages (HTTP 422)."""


@deserialize_to_instance
class NotFound(CasewireError):
    """No such record, or one the caller may not know exists (HTTP 404)."""


@deserialize_to_instance
class Conflict(CasewireError):
    """The request conflicts with the record's state, e.g. an illegal transition (HTTP 409)."""


@deserialize_to_instance
class Forbidden(CasewireError):
    """The caller may not do this to this record (HTTP 403)."""


@deserialize_to_instance
class Unavailable(CasewireError):
    """A backend needed to do this durably is down; nothing was done (HTTP 503)."""


@deserialize_to_instance
class PurposeRequired(CasewireError):
    """C9: criminal intelligence needs a stated purpose and a case or incident number (HTTP 400)."""


@deserialize_to_instance
class CorruptedFile(CasewireError):
    """A stored attachment no longer matches the SHA-256 recorded at upload (HTTP 500)."""


EXPECTED = (InvalidInput, NotFound, Conflict, Forbidden, Unavailable, PurposeRequired, CorruptedFile)
"""Pass as ``expected_exceptions`` to RPC entrypoints so these are not logged as crashes."""
