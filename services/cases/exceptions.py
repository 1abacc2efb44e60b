"""The cases service's own errors; registered with nameko so the gateway receives them as themselves."""

from nameko.exceptions import deserialize_to_instance

from casewire.errors import CasewireError


@deserialize_to_instance
class PurposeRequired(CasewireError):
    """C9: criminal intelligence needs a stated purpose and a case or incident number (HTTP 400)."""


@deserialize_to_instance
class CorruptedFile(CasewireError):
    """A stored attachment no longer matches the SHA-256 recorded at upload (HTTP 500)."""


CASES_EXPECTED = (PurposeRequired, CorruptedFile)
