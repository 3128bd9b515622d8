"""Domain errors of ptce-geo.

Messages are in French (they reach users as they are) and name the offending value
and, where there is one, the way to fix it.
"""

from __future__ import annotations


class PtceGeoError(Exception):
    """Base of every error ptce-geo raises on purpose."""


class UnknownChoiceError(PtceGeoError, KeyError):
    """A user's choice is not one of the valid keys."""

    def __init__(self, what: str, value, valid):
        self.value = value
        self.valid = list(valid)
        super().__init__(
            f"{what} inconnu : {value!r}. Valeurs possibles : {', '.join(map(str, self.valid))}."
        )

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


class DataUnavailableError(PtceGeoError):
    """A layer cannot be obtained (offline, no mirror, no cache)."""


class DownloadError(DataUnavailableError):
    """A download failed or delivered something that is not the expected file."""


class DataFormatError(PtceGeoError):
    """A source file does not have the expected format."""


class CacheError(PtceGeoError):
    """A cache file is unreadable (it is rebuilt)."""


class ValidationError(PtceGeoError):
    """User input (an import file, a form) is invalid; carries a per-row report."""

    def __init__(self, message: str, report=None):
        super().__init__(message)
        self.report = report


class ConflictError(PtceGeoError):
    """Someone else changed a record since it was read."""


class GeocodingError(PtceGeoError):
    """The address API could not be used."""


class ParameterError(PtceGeoError):
    """A parameter of an analysis is invalid (radius, count…)."""
