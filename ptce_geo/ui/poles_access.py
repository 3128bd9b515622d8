"""Who is using the page « Pôles »: the editing mode, the visitor's identity and role, sign-in.

``session()`` is called once at the top of the page: it reads ``PTCE_GEO_EDITING``, builds the
visitor's ``access.Identity`` from what the server knows — ``st.context.ip_address`` (None for a
browser on the server's machine) in ``local`` mode, ``st.user`` (the OpenID Connect identity
cookie set by ``st.login``) in ``auth`` mode — never from a form, shows the « Se connecter » /
« Se déconnecter » buttons and a French sentence saying what this visitor may do and why.
The rights themselves are checked again by ``editing.write`` on every write.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import streamlit as st

from .. import access, editing, oidc
from .._errors import PtceGeoError
from .common import escape, show_error

__all__ = ["Session", "providers", "session"]


class Session(NamedTuple):
    mode: str
    identity: access.Identity
    role: str | None

    @property
    def can_write(self) -> bool:
        return self.role is not None

    @property
    def is_editor(self) -> bool:
        return self.role in ("editeur", "admin")

    def write(self, action: str, **params):
        """``editing.write`` for this visitor (the server-side check happens there)."""
        return editing.write(action, self.identity, self.mode, **params)


def _auth_section() -> Mapping | None:
    """The ``[auth]`` section of the secrets (None when there is none or no secrets file)."""
    try:
        section = st.secrets.get("auth")
    except Exception:  # noqa: BLE001 - no secrets.toml, or an unreadable one: sign-in is not configured
        return None
    return section if isinstance(section, Mapping) else None


def providers(section: Mapping | None) -> list[str | None]:
    """Sign-in providers of an ``[auth]`` section: ``[None]`` for one provider given at its top
    level, else the names of its ``[auth.NAME]`` subsections."""
    if not section:
        return []
    if "client_id" in section:
        return [None]
    return [name for name, value in section.items() if isinstance(value, Mapping)]


def _claim_bool(value) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _email(user: Mapping) -> str | None:
    """The signed-in e-mail, completed from the provider when the ID token lacks it (``oidc``),
    once per session."""
    if user.get("email"):
        return str(user["email"])
    key = "poles-oidc-email"
    cached = st.session_state.get(key)
    if cached and cached[0] == user.get("sub"):
        return cached[1]
    try:
        tokens = dict(st.user.tokens)
    except Exception:  # noqa: BLE001 - no token exposed
        tokens = {}
    try:
        email = oidc.signed_in_email(user, tokens, _auth_section())
    except PtceGeoError as exc:
        show_error(exc)
        email = None
    st.session_state[key] = (user.get("sub"), email)
    return email


def _identity(mode: str) -> access.Identity:
    ip = st.context.ip_address
    if mode == "auth":
        if st.user.get("is_logged_in") is True:
            user = st.user.to_dict()
            return access.Identity.signed_in(_email(user), user.get("sub"), user.get("name"),
                                             _claim_bool(user.get("email_verified")), ip)
        return access.Identity.browser(ip)
    if mode == "local" and ip is None:
        name = st.sidebar.text_input("Votre nom (inscrit dans l'historique)", key="poles-who",
                                     placeholder="ex. Marie Dupont (RTES)")
        return access.Identity.browser(ip, name)
    return access.Identity.browser(ip)


def _sign_in_box(session: Session) -> None:
    section = _auth_section()
    names = providers(section)
    if session.identity.is_signed_in:
        who = session.identity.email or session.identity.sub
        role = session.role or "lecture seule"
        cols = st.columns([4, 1])
        cols[0].markdown(f"Connecté : **{escape(who)}** — rôle **{escape(role)}** ({escape(access.ROLES.get(role, ''))}).")
        if not session.identity.email:
            cols[0].warning("Votre fournisseur d'identité n'a pas transmis votre adresse électronique : vous êtes "
                            "contributeur (aucun rôle attribué ne peut s'appliquer). Pour ProConnect, l'administrateur "
                            "ajoute expose_tokens = [\"access\"] à la section [auth] (voir le README).")
        if session.identity.email_verified is False:
            cols[0].warning("Votre fournisseur d'identité indique que cette adresse n'est pas vérifiée : aucun rôle "
                            "attribué ne s'applique, vous pouvez seulement proposer.")
        if cols[1].button("Se déconnecter", key="poles-logout"):
            st.logout()
        return
    if not names:
        st.error("La connexion n'est pas configurée sur ce serveur (PTCE_GEO_EDITING=auth, mais aucune section [auth] "
                 "dans .streamlit/secrets.toml) : personne ne peut modifier le registre depuis l'application. "
                 "L'administrateur la configure comme indiqué dans le README (exemple : .streamlit/secrets.toml.example).")
        return
    st.info("Vous consultez le registre sans être connecté. Connectez-vous pour proposer un pôle ou une modification ; "
            "les éditeurs valident les propositions.")
    cols = st.columns(max(len(names), 1) + 2)
    for i, name in enumerate(names):
        label = "Se connecter" if name is None or len(names) == 1 else f"Se connecter ({name})"
        if cols[i].button(label, key=f"poles-login-{name or 'defaut'}", type="primary"):
            if name is None:
                st.login()
            else:
                st.login(name)


def session() -> Session:
    """The visitor's mode, identity and role, with the sign-in box and the explanation of rights."""
    try:
        mode = access.check_mode(None)
    except PtceGeoError as exc:
        show_error(exc)
        mode = "off"  # a wrong setting never opens writing
    identity = _identity(mode)
    current = Session(mode, identity, access.role_of(identity, mode))
    if mode == "auth":
        _sign_in_box(current)
    elif mode == "off":
        st.info("Atlas en lecture seule : le registre des pôles se consulte et s'exporte ici ; il est tenu à jour "
                "par l'équipe qui l'administre (PTCE_GEO_EDITING=off).")
    elif not current.can_write:
        st.info("Consultation seule : sur ce serveur, le registre ne peut être modifié que depuis un navigateur ouvert "
                "sur la machine qui fait tourner l'application (mode local). Votre navigateur est sur une autre "
                "machine : vous pouvez consulter et exporter le registre, pas le modifier.")
    return current
