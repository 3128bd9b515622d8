"""Hostile text (issue 17): ``$…$`` is not mathematics in prints, Markdown in a name or a source
is shown as typed on the « Fiche » (no link, no image), links only from a valid http(s)
``site_web``, error messages quoting a file are escaped too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from matplotlib.text import Text

from ptce_geo import _text, cli, printing, registry

ROOT = Path(__file__).resolve().parents[1]
MATH = r"Pôle $\frac{$"
IMAGE = "![pixel](http://exemple.invalid/pixel.png)"
LINK = "[clic](http://exemple.invalid/piege)"


def _pole(name: str, **extra) -> str:
    rec = {"nom": name, "code_insee": "46102", "commune": "Figeac", "departement": "46", "region": "76",
           "latitude": 44.6080, "longitude": 2.0310, "geocodage": "saisie", "secteurs": ["insertion"],
           "perimetre": [], "localise": True, **extra}
    pid = registry.add(rec, who="test")
    printing.clear_memo()
    return pid


@pytest.fixture
def math_pole(fresh_data):
    pid = _pole(MATH)
    yield pid
    printing.clear_memo()


# ------------------------------------------------------------------ print


def test_a_dollar_pole_prints_in_its_region_and_in_france(math_pole, tmp_path, output_dir, capsys):
    out = output_dir / "hostile-dollar-occitanie.png"
    code = cli.main(["print", "--region", "76", "--format", "png", "--dpi", "100", "-o", str(out),
                     "--title", r"Titre $\frac{$ et $x^2$", "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert out.stat().st_size > 10_000
    fig = printing.render(printing.territory("region", "76"), title=r"$\frac{$")
    texts = [t for t in fig.findobj(Text) if t.get_text()]
    assert any(MATH in t.get_text() for t in texts)  # the label, as typed
    assert not any(t.get_parse_math() for t in texts)
    printing.to_bytes(fig, "pdf")
    france = printing.render(printing.territory("france"))
    assert printing.to_bytes(france, "png", dpi=72)[:4] == b"\x89PNG"


def test_a_dollar_pole_in_the_atlas(math_pole, tmp_path):
    path = printing.atlas(tmp_path / "atlas.pdf", regions=["76"], progress=False)
    assert path.read_bytes()[:4] == b"%PDF"


def test_impression_page_with_a_dollar_pole_and_title(app_page, math_pole):
    at = app_page("impression", timeout=240, check=False)
    label = next(o for o in at.selectbox[0].options if o.startswith("Département — Lot"))
    at.selectbox[0].set_value(label).run()
    at.text_input[0].set_value(r"Carte $\frac{$ du Lot").run()
    assert not at.exception and not at.error
    assert at.get("image")


# ------------------------------------------------------------------ pages


def test_fiche_shows_markdown_as_text_and_links_only_a_valid_site(app_page, fresh_data):
    pid = _pole(IMAGE + " " + LINK, source=IMAGE, adresse="<img src=x onerror=alert(1)>",
                forme_juridique=":red[rouge] $x$", site_web="javascript:alert(1)")
    good = _pole("Pôle au site valide", site_web="https://exemple.org/page(1)?a=b")
    at = app_page("poles", check=False)
    at.selectbox(key="poles-selected").set_value(pid).run()
    assert not at.exception
    [shown] = [m.value for m in at.markdown if m.value.startswith("- **Nom**")]
    # no Markdown or HTML syntax left unescaped: no image, link, tag, LaTeX or directive can form
    assert not re.findall(r"(?<!\\)[\[\]()<>!$`]", shown), shown
    assert "\\!\\[pixel\\]\\(http\\:\\/\\/exemple\\.invalid\\/pixel\\.png\\)" in shown  # shown as typed
    assert "javascript\\:alert\\(1\\)" in shown and "\\:red\\[rouge\\]" in shown and "\\$x\\$" in shown
    at.selectbox(key="poles-selected").set_value(good).run()
    [shown] = [m.value for m in at.markdown if m.value.startswith("- **Nom**")]
    assert "](https://exemple.org/page%281%29?a=b)" in shown and "![" not in shown


def test_md_and_safe_url():
    assert _text.md("**a** [b](c) ![d](e) <i> $x$ :red[f]\nline") == (
        "\\*\\*a\\*\\* \\[b\\]\\(c\\) \\!\\[d\\]\\(e\\) \\<i\\> \\$x\\$ \\:red\\[f\\] line")
    assert _text.md("a\nb", lines=True) == "a  \nb"
    for bad in ("javascript:alert(1)", "http://", "ftp://x.org", "http://a b.org", "http://user@x.org",
                "https://x.org/<script>", "data:image/png;base64,AAAA", "http://exemple..org", None, 12):
        assert _text.safe_url(bad) is None, bad
    assert _text.safe_url("https://exemple.org/a(b)") == "https://exemple.org/a%28b%29"
    assert _text.safe_url("http://xn--caf-dma.fr/") == "http://xn--caf-dma.fr/"
    assert _text.md_link("x", "javascript:alert(1)") == "javascript\\:alert\\(1\\)"


def test_error_messages_are_escaped_on_pages(monkeypatch):
    from ptce_geo.ui import common
    from ptce_geo._errors import ValidationError

    shown = []
    monkeypatch.setattr(common.st, "error", shown.append)
    common.show_error(ValidationError(f"doublon : le pôle {IMAGE!r} existe déjà\nligne 2"))
    assert "![" not in shown[0] and "  \n" in shown[0]
