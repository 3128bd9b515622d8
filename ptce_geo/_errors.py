"""Domain errors of ptce-geo.

Messages are in French (they reach users as they are) and name the offending value
and, where there is one, the way to fix it. ``os_error_fr`` and ``network_error_fr``
turn the English texts of the standard library and of ``requests`` into short French
phrases, so no English leaks into a message.
"""

from __future__ import annotations

import errno as _errno

__all__ = ["PtceGeoError", "UnknownChoiceError", "DataUnavailableError", "DownloadError", "DataFormatError",
    "CacheError", "ValidationError", "ConflictError", "GeocodingError", "ParameterError", "ConfigurationError",
    "FileAccessError", "RegistryError", "AccessDeniedError", "os_error_fr", "file_error", "network_error_fr"]

# First words of the ``what`` of an UnknownChoiceError that are feminine (agreement of « inconnu »).
_FEMININE = {"couche", "source", "sortie", "extension", "valeur", "région", "commune", "zone", "échelle",
             "option", "clé", "colonne", "feuille", "orientation", "taille", "variable", "action"}


class PtceGeoError(Exception):
    """Base of every error ptce-geo raises on purpose."""


class UnknownChoiceError(PtceGeoError, KeyError):
    """A user's choice is not one of the valid keys.

    The default message is « <what> inconnu(e) : <value!r>. Valeurs possibles : … » (the
    agreement follows the first word of ``what``, or ``feminine``); ``message`` replaces it
    when the template does not read well (extensions, outputs, files).
    """

    def __init__(self, what: str, value, valid, *, feminine: bool | None = None, message: str | None = None):
        self.value = value
        self.valid = list(valid)
        if message is None:
            if feminine is None:
                feminine = str(what).split(" ", 1)[0].lower() in _FEMININE
            message = f"{what} {'inconnue' if feminine else 'inconnu'} : {value!r}."
            if self.valid:
                message += f" Valeurs possibles : {', '.join(map(str, self.valid))}."
        super().__init__(message)

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


class ConfigurationError(PtceGeoError):
    """An environment variable (``PTCE_GEO_*``) has a value that cannot be used."""


class FileAccessError(PtceGeoError):
    """A file or folder cannot be read or written (missing, permission, is a folder…)."""


class RegistryError(PtceGeoError):
    """The pole registry file cannot be used (damaged, locked, not a database)."""


class AccessDeniedError(PtceGeoError):
    """A write refused by the editing mode or the role (``access.check``)."""


# ---------------------------------------------------------------- English → French

_ERRNO_FR = {
    _errno.ENOENT: "fichier ou dossier introuvable",
    _errno.EACCES: "permission refusée",
    _errno.EPERM: "opération non permise",
    _errno.EISDIR: "c'est un dossier, pas un fichier",
    _errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    _errno.EEXIST: "existe déjà (un fichier occupe la place d'un dossier ?)",
    _errno.ENOSPC: "disque plein",
    _errno.EROFS: "système de fichiers en lecture seule",
    _errno.ENAMETOOLONG: "nom de fichier trop long",
    _errno.EBUSY: "fichier occupé par un autre programme",
    _errno.EXDEV: "déplacement impossible entre deux disques",
    _errno.EINVAL: "chemin invalide",
    _errno.EIO: "erreur d'entrée-sortie du disque",
}


def os_error_fr(exc: OSError) -> str:
    """Short French reason of an ``OSError`` (« permission refusée »…), without the English text."""
    reason = _ERRNO_FR.get(getattr(exc, "errno", None))
    if reason is None:
        if isinstance(exc, PermissionError):
            reason = "permission refusée"
        elif isinstance(exc, FileNotFoundError):
            reason = "fichier ou dossier introuvable"
        elif isinstance(exc, IsADirectoryError):
            reason = "c'est un dossier, pas un fichier"
        elif isinstance(exc, NotADirectoryError):
            reason = "un élément du chemin n'est pas un dossier"
        else:
            reason = f"erreur système n° {exc.errno}" if getattr(exc, "errno", None) else "erreur système"
    return reason


def file_error(action: str, path, exc: OSError, hint: str | None = None) -> FileAccessError:
    """A ``FileAccessError`` « Impossible d'<action> '<path>' : <raison>. <conseil> »."""
    if hint is None:
        hint = _default_hint(exc)
    return FileAccessError(f"Impossible {action} {str(path)!r} : {os_error_fr(exc)}." + (f" {hint}" if hint else ""))


def _default_hint(exc: OSError) -> str:
    code = getattr(exc, "errno", None)
    if code == _errno.EISDIR or isinstance(exc, IsADirectoryError):
        return "Donnez un nom de fichier (ex. -o dossier/resultat.csv)."
    if code in (_errno.EACCES, _errno.EPERM, _errno.EROFS) or isinstance(exc, PermissionError):
        return "Choisissez un emplacement où vous avez le droit d'écrire (ex. votre dossier personnel)."
    if code == _errno.ENOENT or isinstance(exc, FileNotFoundError):
        return "Vérifiez le chemin (le dossier doit exister et être accessible)."
    if code == _errno.ENOTDIR or isinstance(exc, NotADirectoryError):
        return "Un élément du chemin est un fichier : vérifiez le chemin."
    if code == _errno.ENOSPC:
        return "Libérez de la place sur le disque."
    return ""


def network_error_fr(exc: BaseException, timeout: float | None = None) -> str:
    """Short French reason of a ``requests`` failure (DNS, refused, timeout, HTTP status…)."""
    try:
        import requests
    except ImportError:  # pragma: no cover - requests is a dependency
        requests = None
    text = f"{type(exc).__name__} {exc}"
    if requests is not None:
        if isinstance(exc, requests.HTTPError) and getattr(exc, "response", None) is not None:
            return f"le serveur a répondu HTTP {exc.response.status_code}"
        if isinstance(exc, requests.Timeout):
            return "pas de réponse du serveur" + (f" en {timeout:g} s" if timeout else "") + " (délai dépassé)"
        if isinstance(exc, requests.exceptions.SSLError):
            return "connexion sécurisée (HTTPS) impossible (certificat refusé)"
        if isinstance(exc, requests.ConnectionError):
            if any(k in text for k in ("NameResolution", "Name or service not known", "getaddrinfo",
                                       "Temporary failure in name resolution", "nodename nor servname")):
                return "serveur introuvable (résolution DNS impossible : pas de connexion Internet ?)"
            if "refused" in text.lower():
                return "connexion refusée par le serveur"
            if "reset" in text.lower() or "aborted" in text.lower():
                return "connexion interrompue"
            return "réseau injoignable (pas de connexion Internet ?)"
        if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                            requests.exceptions.InvalidSchema)):
            return "adresse (URL) invalide"
    if isinstance(exc, ValueError):
        return "réponse illisible (ce n'est pas le format attendu)"
    return "échec de la requête réseau"
