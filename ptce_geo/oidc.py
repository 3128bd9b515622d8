"""The signed-in user's e-mail when the OpenID Connect ID token does not carry it (ProConnect).

``st.login`` keeps the claims of the ID token only. Most providers put ``email`` there; ProConnect,
the State's sign-in for public agents, puts only ``sub`` and the authentication claims in the ID
token and returns ``email`` from its UserInfo endpoint, as a JWT signed for the application
(RS256, ES256, or HS256 with the client secret). With ``expose_tokens = ["access"]`` in ``[auth]``,
``signed_in_email`` calls that endpoint once with the access token (ProConnect's lives 60 s), checks
the signature against the provider's keys and that the subject is the signed-in one, and remembers
(issuer, subject) → e-mail in the registry (``registry_review.remember_identity``), so a later
session of the same person — whose access token has expired — is still known by its e-mail.

Nothing here trusts the browser: the subject comes from Streamlit's signed identity cookie, the
e-mail from the provider over HTTPS (or from the registry, written only after such a check).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache

import requests

from . import registry_review, settings
from ._errors import AccessDeniedError

__all__ = ["provider_config", "userinfo", "signed_in_email"]


def provider_config(section: Mapping | None, provider: str | None) -> Mapping:
    """The settings of ``provider`` (``st.user.provider``) in an ``[auth]`` section."""
    if not section:
        return {}
    if provider and isinstance(section.get(provider), Mapping):
        return section[provider]
    return section if "server_metadata_url" in section else {}


@lru_cache(maxsize=8)
def _metadata(url: str) -> dict:
    current = settings.get()
    resp = requests.get(url, timeout=current.http_timeout, headers={"User-Agent": current.user_agent})
    resp.raise_for_status()
    return resp.json()


def _verify(token: str, meta: Mapping, client_secret: str | None, client_id: str | None) -> dict:
    from joserfc import jwt
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet, OctKey

    current = settings.get()
    try:
        header = json.loads(_b64(token.split(".")[0]))
        if str(header.get("alg", "")).startswith("HS"):
            key = OctKey.import_key(client_secret or "")
        else:
            resp = requests.get(meta["jwks_uri"], timeout=current.http_timeout,
                                headers={"User-Agent": current.user_agent})
            resp.raise_for_status()
            key = KeySet.import_key_set(resp.json())
        claims = dict(jwt.decode(token, key, algorithms=[header.get("alg")]).claims)
    except (JoseError, ValueError, KeyError, IndexError) as exc:
        raise AccessDeniedError("Réponse du fournisseur d'identité invalide (signature des informations de "
                                "l'utilisateur non vérifiée) : l'adresse électronique n'est pas retenue.") from exc
    if meta.get("issuer") and claims.get("iss") not in (None, meta["issuer"]):
        raise AccessDeniedError("Réponse du fournisseur d'identité émise par un autre émetteur : ignorée.")
    aud = claims.get("aud")
    if client_id and aud is not None and client_id not in ([aud] if isinstance(aud, str) else aud):
        raise AccessDeniedError("Réponse du fournisseur d'identité destinée à une autre application : ignorée.")
    return claims


def _b64(part: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def userinfo(config: Mapping, access_token: str) -> dict:
    """The UserInfo claims for ``access_token`` (JSON, or a signed JWT that is verified)."""
    current = settings.get()
    try:
        meta = _metadata(str(config["server_metadata_url"]))
        resp = requests.get(meta["userinfo_endpoint"], timeout=current.http_timeout,
                            headers={"Authorization": f"Bearer {access_token}", "User-Agent": current.user_agent})
    except (requests.RequestException, KeyError, ValueError) as exc:
        raise AccessDeniedError("Le fournisseur d'identité n'a pas pu être interrogé pour lire votre adresse "
                                "électronique : reconnectez-vous dans un instant.") from exc
    if resp.status_code != 200:
        raise AccessDeniedError(f"Le fournisseur d'identité refuse de donner votre adresse électronique (HTTP "
                                f"{resp.status_code}, jeton expiré ?) : déconnectez-vous puis reconnectez-vous.")
    if "jwt" in resp.headers.get("Content-Type", ""):
        return _verify(resp.text.strip(), meta, config.get("client_secret"), config.get("client_id"))
    try:
        return dict(resp.json())
    except ValueError as exc:
        raise AccessDeniedError("Réponse illisible du fournisseur d'identité (informations de l'utilisateur).") from exc


def signed_in_email(user: Mapping, tokens: Mapping, section: Mapping | None) -> str | None:
    """E-mail of the signed-in ``user`` (``st.user`` claims): its own claim, else the one the registry
    remembers for (issuer, subject), else the provider's UserInfo with the exposed access token
    (then remembered). None when none of these gives one; ``AccessDeniedError`` when the
    provider's answer cannot be trusted."""
    if user.get("email"):
        return str(user["email"])
    issuer, sub = str(user.get("iss") or ""), user.get("sub")
    if not sub:
        return None
    known = registry_review.remembered_email(issuer, str(sub))
    if known:
        return known
    access = (tokens or {}).get("access")
    if not access:
        return None
    claims = userinfo(provider_config(section, user.get("provider")), str(access))
    if str(claims.get("sub")) != str(sub):
        raise AccessDeniedError("Le fournisseur d'identité a décrit une autre personne que celle qui est connectée : "
                                "adresse électronique ignorée. Reconnectez-vous.")
    email = str(claims.get("email") or "").strip().lower()
    if not email:
        return None
    registry_review.remember_identity(issuer, str(sub), email)
    return email
