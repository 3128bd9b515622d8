"""French for Streamlit's own interface: ``<html lang="fr">`` and the texts its frontend leaves in English.

Streamlit 1.67 hard-codes ``<html lang="en">`` in its ``index.html`` and offers no setting for
the texts of its own controls (the skip link « Skip to main content », the file uploader's
« Drag and drop… / Upload / 200MB per file », the status « Running... / Stop », the sidebar and
table buttons, « Help for … »; see streamlit/streamlit#15726 and #13500). :class:`FrenchFrontend`
is an ASGI middleware (``serve.py``, i.e. ``make run``) that rewrites every HTML page the server
sends — the app's shell and the components' frames, such as the map's — so that it:

* declares ``lang="fr"`` (screen readers pronounce French, browsers stop offering to translate);
* carries :data:`SCRIPT`, which translates the frontend's texts and accessible names
  (``aria-label``, ``title``, ``placeholder``) as they appear, from the table :data:`TEXTS` and
  the patterns :data:`PATTERNS` (a MutationObserver; text the app writes itself — markdown,
  captions, tables, text inputs — is never touched);
* carries :data:`STYLE`: a visible keyboard focus on every control;
* says « Activez JavaScript… » in its ``<noscript>``.

The pages are served without ``ETag``/``Last-Modified`` (the rewritten page is not the file
Streamlit would validate) and uncompressed (Streamlit's gzip is asked not to compress them:
they are 2-3 KB).
"""

from __future__ import annotations

import json
import re

__all__ = ["TEXTS", "PATTERNS", "APP_TEXT", "STREAMLIT_CONTROLS", "SCRIPT", "STYLE", "rewrite_html",
    "FrenchFrontend"]

#: Exact texts of Streamlit's frontend (text nodes and accessible names) → French.
TEXTS: dict[str, str] = {
    # page shell
    "Skip to main content": "Aller au contenu principal",
    "You need to enable JavaScript to run this app.": "Activez JavaScript pour utiliser cette application.",
    "App pages": "Pages de l'application",
    "Sidebar": "Barre latérale",
    "Collapse sidebar": "Replier la barre latérale",
    "Expand sidebar": "Déplier la barre latérale",
    "Main menu": "Menu principal",
    "Navigate to home page": "Aller à la page d'accueil",
    "Link to heading": "Lien vers ce titre",
    "Notifications": "Notifications",
    "Close": "Fermer",
    "Open": "Ouvrir",
    "Cancel": "Annuler",
    # status of a run
    "Running...": "Calcul en cours…",
    "Running": "Calcul en cours",
    "Stop": "Arrêter",
    "Stop script": "Arrêter le calcul",
    "Stopping...": "Arrêt…",
    "Rerun": "Relancer",
    "Always rerun": "Toujours relancer",
    "Connecting": "Connexion",
    "Connecting to Streamlit server": "Connexion au serveur",
    "Connecting to static app": "Connexion à l'application",
    "Error": "Erreur",
    "Unable to connect to Streamlit server": "Impossible de joindre le serveur",
    "Connection error": "Erreur de connexion",
    "Is Streamlit still running? If you accidentally stopped Streamlit, just restart it in your terminal:":
        "Le serveur de l'application est-il encore lancé ? S'il a été arrêté, relancez-le (make run) :",
    "Streamlit server is not responding. Are you connected to the internet?":
        "Le serveur de l'application ne répond pas. Êtes-vous connecté à Internet ?",
    "Please wait...": "Veuillez patienter…",
    "Source file changed.": "Le fichier source a changé.",
    # main menu
    "Settings": "Réglages",
    "Print": "Imprimer",
    "Record a screencast": "Enregistrer une vidéo de l'écran",
    "About": "À propos",
    "Clear cache": "Vider le cache",
    "Clear caches": "Vider les caches",
    "Developer options": "Options de développement",
    "Get help": "Aide",
    "Report a bug": "Signaler une anomalie",
    "Theme": "Thème",
    "Light": "Clair",
    "Dark": "Sombre",
    "System": "Système",
    # file uploader
    "Drag and drop file here": "Glissez-déposez un fichier ici",
    "Drag and drop a file here": "Glissez-déposez un fichier ici",
    "Drag and drop files here": "Glissez-déposez des fichiers ici",
    "Drag and drop directories here": "Glissez-déposez des dossiers ici",
    "Browse files": "Parcourir les fichiers",
    "Upload": "Choisir un fichier",
    "Upload directories": "Choisir des dossiers",
    "file upload": "dépôt de fichier",
    "Delete": "Supprimer",
    "Remove file": "Retirer le fichier",
    "Only one file is allowed.": "Un seul fichier est accepté.",
    "File type not allowed.": "Type de fichier refusé.",
    # inputs
    "Choose an option": "Choisir une option",
    "Choose options": "Choisir des options",
    "Select...": "Choisir…",
    "No results": "Aucun résultat",
    "Clear all": "Tout effacer",
    "Clear value": "Effacer",
    "Selected values": "Valeurs choisies",
    "Increment": "Augmenter",
    "Decrement": "Diminuer",
    "Show password": "Afficher le mot de passe",
    "Hide password": "Masquer le mot de passe",
    "Press Enter to apply": "Entrée pour valider",
    "Press Enter to submit form": "Entrée pour envoyer le formulaire",
    "Choose date": "Choisir une date",
    "Previous month": "Mois précédent",
    "Next month": "Mois suivant",
    # tabs, tables, images
    "Scroll tabs left": "Onglets précédents",
    "Scroll tabs right": "Onglets suivants",
    "Download as CSV": "Télécharger en CSV",
    "Search": "Rechercher",
    "Close Search": "Fermer la recherche",
    "Previous Result": "Résultat précédent",
    "Next Result": "Résultat suivant",
    "Fullscreen": "Plein écran",
    "Close fullscreen": "Quitter le plein écran",
    "Show/hide columns": "Afficher ou masquer des colonnes",
    "Copy to clipboard": "Copier",
    "Copy column name": "Copier le nom de la colonne",
    "Dataframe column menu": "Menu de la colonne",
    "Sort ascending": "Tri croissant",
    "Sort descending": "Tri décroissant",
    "Previous page": "Page précédente",
    "Next page": "Page suivante",
    "Pagination": "Pagination",
    "View fullscreen": "Voir en plein écran",
    "Exit fullscreen": "Quitter le plein écran",
    # component frames (their ``title`` is the component's name)
    "streamlit_folium.st_folium": "Carte interactive",
}

#: Texts with a variable part: (regular expression on the whole text, French replacement).
PATTERNS: list[tuple[str, str]] = [
    (r"^Help for (.+)$", r"Aide : \1"),
    (r"^Remove (.+)$", r"Retirer « \1 »"),
    (r"^Fullscreen: (.+)$", r"Plein écran : \1"),
    (r"^Limit (\d+)\s?MB per file(.*)$", r"Limite de \1 Mo par fichier\2"),
    (r"^(\d+)\s?MB per file(.*)$", r"\1 Mo par fichier\2"),
    (r"^(\d+(?:[.,]\d+)?)\s?([KMG])B$", r"\1 \2o"),
    (r"^Press Enter to (.+)$", r"Entrée pour valider"),
    (r"^You can only select up to (\d+) options?\. Remove an option first\.$",
     r"Au plus \1 choix : retirez-en un d'abord."),
]

#: Elements whose text is the app's own (never translated, even if it looks like a Streamlit label).
APP_TEXT = ("[data-testid='stMarkdownContainer']", "[data-testid='stCaptionContainer']", "[data-testid='stText']",
            "[data-testid='stCode']", "[role='option']", "[role='listbox']", "[role='grid']",
            "[data-baseweb='tag'] span[title]", ".leaflet-popup-content", ".leaflet-tooltip", ".ptce-legend",
            ".ptce-text")
#: Streamlit's own controls that draw their label with the Markdown container (translated anyway).
STREAMLIT_CONTROLS = ("[data-testid='stFileUploaderDropzone'] button",
                      "[data-testid='stFileUploaderDropzoneInstructions']")

SCRIPT = """
(function () {
  if (window.ptceFrench) { return; }
  window.ptceFrench = true;
  var TEXTS = %(texts)s;
  var PATTERNS = %(patterns)s.map(function (p) { return [new RegExp(p[0]), p[1]]; });
  var ATTRS = ['aria-label', 'title', 'placeholder', 'alt', 'aria-roledescription', 'data-tooltip'];
  var SKIP = %(skip)s.join(',');
  var OWN = %(own)s.join(',');
  function tr(s) {
    var t = s.trim();
    if (!t) { return null; }
    var out = Object.prototype.hasOwnProperty.call(TEXTS, t) ? TEXTS[t] : null;
    if (out === null) {
      for (var i = 0; i < PATTERNS.length; i++) {
        if (PATTERNS[i][0].test(t)) { out = t.replace(PATTERNS[i][0], PATTERNS[i][1]); break; }
      }
    }
    return out === null || out === t ? null : s.replace(t, out);
  }
  function appText(el) { return !!(el && el.closest && el.closest(SKIP) && !el.closest(OWN)); }
  function fixText(n) {
    if (appText(n.parentElement)) { return; }
    var r = tr(n.data);
    if (r !== null) { n.data = r; }
  }
  function fixAttrs(el) {
    var own = appText(el);
    for (var i = 0; i < ATTRS.length; i++) {
      if (own && ATTRS[i] !== 'aria-label') { continue; }  // a title or alt written by the app
      var v = el.getAttribute(ATTRS[i]);
      if (v) { var r = tr(v); if (r !== null) { el.setAttribute(ATTRS[i], r); } }
    }
  }
  function fix(root) {
    if (root.nodeType === 3) { fixText(root); return; }
    if (root.nodeType !== 1) { return; }
    fixAttrs(root);
    var w = document.createTreeWalker(root, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT);
    while (w.nextNode()) {
      var n = w.currentNode;
      if (n.nodeType === 3) { fixText(n); } else { fixAttrs(n); }
    }
  }
  function start() {
    document.documentElement.lang = 'fr';
    fix(document.documentElement);
    new MutationObserver(function (muts) {
      for (var i = 0; i < muts.length; i++) {
        var m = muts[i];
        if (m.type === 'childList') { m.addedNodes.forEach(fix); }
        else if (m.type === 'characterData') { fixText(m.target); }
        else if (m.type === 'attributes') {
          if (m.attributeName === 'lang' && m.target === document.documentElement) {
            if (document.documentElement.lang !== 'fr') { document.documentElement.lang = 'fr'; }
          } else { fixAttrs(m.target); }
        }
      }
    }).observe(document.documentElement, {subtree: true, childList: true, characterData: true, attributes: true,
                                           attributeFilter: ATTRS.concat(['lang'])});
  }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); } else { start(); }
})();
""" % {"texts": json.dumps(TEXTS, ensure_ascii=False),
       # Python's \1 is JavaScript's $1 in a replacement
       "patterns": json.dumps([(p, re.sub(r"\\(\d)", r"$\1", r)) for p, r in PATTERNS], ensure_ascii=False),
       "skip": json.dumps(list(APP_TEXT)), "own": json.dumps(list(STREAMLIT_CONTROLS))}

#: A visible keyboard focus everywhere (WCAG 2.4.7), in the app's blue, thick enough on any background.
STYLE = """
:focus-visible { outline: 3px solid #1f5fa8 !important; outline-offset: 2px !important; }
a:focus-visible, button:focus-visible, summary:focus-visible, [role="button"]:focus-visible,
[role="tab"]:focus-visible, [tabindex]:focus-visible { box-shadow: 0 0 0 5px #ffffff !important; }
"""

_HTML_LANG = re.compile(rb"<html([^>]*?)\slang=\"[^\"]*\"", re.I)
_NOSCRIPT_EN = b"You need to enable JavaScript to run this app."


def rewrite_html(body: bytes) -> bytes:
    """``lang="fr"``, the translation script and the focus style in one HTML page (idempotent)."""
    if b"ptce-fr-script" in body:
        return body
    if _HTML_LANG.search(body):
        body = _HTML_LANG.sub(rb'<html\1 lang="fr"', body, count=1)
    else:
        body = re.sub(rb"<html(?=[\s>])", b'<html lang="fr"', body, count=1, flags=re.I)
    body = body.replace(_NOSCRIPT_EN, TEXTS[_NOSCRIPT_EN.decode()].encode())
    head = (f'<style id="ptce-fr-style">{STYLE}</style>'
            f'<script id="ptce-fr-script">{SCRIPT}</script>').encode()
    match = re.search(rb"<head[^>]*>", body, re.I)
    if match:
        return body[:match.end()] + head + body[match.end():]
    return head + body


_NOT_HTML_PREFIXES = ("/_stcore/", "/static/", "/media/", "/app/static/")


def _maybe_html(path: str) -> bool:
    """Requests that may answer with an HTML page: the app's pages (any path without a file
    extension falls back to ``index.html``) and the components' ``index.html``."""
    if path.startswith(_NOT_HTML_PREFIXES):
        return False
    last = path.rsplit("/", 1)[-1]
    return "." not in last or last.endswith((".html", ".htm"))


_DROP_REQUEST = {b"accept-encoding", b"if-none-match", b"if-modified-since", b"range"}
_DROP_RESPONSE = {b"content-length", b"etag", b"last-modified", b"content-encoding"}


class FrenchFrontend:
    """ASGI middleware: every HTML page the server sends is rewritten by :func:`rewrite_html`."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if (scope.get("type") != "http" or scope.get("method") != "GET"
                or not _maybe_html(scope.get("path", ""))):
            return await self.app(scope, receive, send)
        scope = {**scope, "headers": [(k, v) for k, v in scope.get("headers", ()) if k.lower() not in _DROP_REQUEST]}
        start: dict = {}
        chunks: list[bytes] = []
        state = {"html": False}

        async def capture(message):
            if message["type"] == "http.response.start":
                headers = {k.lower(): v for k, v in message.get("headers", [])}
                ctype = headers.get(b"content-type", b"").decode("latin-1").lower()
                state["html"] = (message.get("status") == 200 and ctype.startswith("text/html")
                                 and b"content-encoding" not in headers)
                if not state["html"]:
                    return await send(message)
                start.update(message)
                return
            if message["type"] != "http.response.body" or not state["html"]:
                return await send(message)
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = rewrite_html(b"".join(chunks))
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() not in _DROP_RESPONSE]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)
