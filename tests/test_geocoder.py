"""Geocoding against a local HTTP server answering like the BAN (api-adresse.data.gouv.fr)."""

import csv
import io

import pytest
from werkzeug import Response

from ptce_geo import geocoder, importer, poles, registry
from ptce_geo._errors import GeocodingError


def feature(lon, lat, score, label, citycode):
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"label": label, "score": score, "citycode": citycode, "type": "housenumber"}}


def collection(*features):
    return {"type": "FeatureCollection", "version": "draft", "features": list(features)}


@pytest.fixture
def ban(httpserver, monkeypatch, tmp_path):
    """The geocoder pointed at a local server, online, with an empty answer cache."""
    monkeypatch.setenv("PTCE_GEO_OFFLINE", "0")
    monkeypatch.setenv("PTCE_GEO_GEOCODER_URL", httpserver.url_for("/").rstrip("/"))
    monkeypatch.setattr(geocoder, "cache_path", lambda: tmp_path / "geocoder.sqlite")
    return httpserver


def test_search_and_cache(ban):
    ban.expect_request("/search/", query_string={"q": "6 rue Arnold Géraux L'Île-Saint-Denis", "limit": "1"}).respond_with_json(
        collection(feature(2.3362, 48.9373, 0.93, "6 Rue Arnold Géraux 93450 L'Île-Saint-Denis", "93039")))
    res = geocoder.search("6 rue Arnold Géraux L'Île-Saint-Denis")
    assert (res.latitude, res.longitude, res.citycode) == (48.9373, 2.3362, "93039")
    assert res.score == pytest.approx(0.93)
    again = geocoder.search("6 rue Arnold Géraux L'Île-Saint-Denis")  # from the cache: no second request
    assert again == res
    assert len(ban.log) == 1


def test_search_no_result_and_http_error(ban):
    ban.expect_request("/search/", query_string={"q": "nulle part", "limit": "1"}).respond_with_json(collection())
    assert geocoder.search("nulle part") is None
    ban.expect_request("/search/", query_string={"q": "panne", "limit": "1"}).respond_with_data("oups", status=502)
    with pytest.raises(GeocodingError, match="Géocodage impossible"):
        geocoder.search("panne")


def _batch_handler(answers):
    def handle(request):
        assert request.form.getlist("columns") == ["adresse"] and request.form.get("citycode") == "code_insee"
        rows = list(csv.DictReader(io.StringIO(request.files["data"].read().decode("utf-8"))))
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow(["rid", "adresse", "code_insee", "latitude", "longitude", "result_label", "result_score",
                    "result_type", "result_citycode"])
        for row in rows:
            lat, lon, score, citycode = answers[row["adresse"]]
            w.writerow([row["rid"], row["adresse"], row["code_insee"], lat, lon, "libellé", score, "housenumber", citycode])
        return Response(out.getvalue(), content_type="text/csv")
    return handle


ANSWERS = {
    "6 rue Arnold Géraux": (48.9373, 2.3362, 0.91, "93039"),
    "rue inconnue": ("", "", "", ""),
    "place vague": (44.6, 2.03, 0.31, "46102"),
    "1 place Ailleurs": (45.0, 5.0, 0.95, "38185"),
}


def test_batch_and_fallbacks(ban):
    ban.expect_request("/search/csv/", method="POST").respond_with_handler(_batch_handler(ANSWERS))
    out = geocoder.geocode([("6 rue Arnold Géraux", "93039"), ("rue inconnue", "75056"), ("place vague", "46102"),
                            ("1 place Ailleurs", "46102")])
    assert len(ban.log) == 1  # one request for the whole batch
    assert (out[0].geocodage, out[0].latitude) == ("adresse", 48.9373)
    for o, why in zip(out[1:], ["introuvable", "score trop faible", "autre commune"]):
        assert o.geocodage == "commune" and why in o.note and "centre de la commune" in o.note
    assert (out[2].latitude, out[2].longitude) == poles.commune_point("46102")
    assert (out[1].latitude, out[1].longitude) == poles.commune_point("75056")
    # all cached now
    geocoder.geocode([("6 rue Arnold Géraux", "93039"), ("place vague", "46102")])
    assert len(ban.log) == 1


def test_network_failure_and_offline_fall_back_to_commune(ban, monkeypatch):
    ban.expect_request("/search/csv/", method="POST").respond_with_data("indisponible", status=503)
    out = geocoder.geocode([("a", "93039"), ("b", None)])
    assert out[0].geocodage == "commune" and "impossible" in out[0].note
    assert out[1].geocodage is None and "non localisé" in out[1].note
    monkeypatch.setenv("PTCE_GEO_OFFLINE", "1")
    n = len(ban.log)
    out = geocoder.geocode([("a", "93039")])
    assert out[0].geocodage == "commune" and "hors ligne" in out[0].note and len(ban.log) == n


def test_import_with_addresses_reports_geocoding(ban, fresh_data, tmp_path):
    ban.expect_request("/search/csv/", method="POST").respond_with_handler(_batch_handler({
        "6 rue Arnold Géraux L'Île-Saint-Denis": (48.9373, 2.3362, 0.91, "93039"),
        "place vague Figeac": (44.6, 2.03, 0.2, "46102"),
        "10 rue de Rivoli 75004": (48.8556, 2.3589, 0.88, "75056"),
    }))
    path = tmp_path / "adresses.csv"
    path.write_text("nom;adresse;code insee\nPôle adressé;6 rue Arnold Géraux;93039\nPôle vague;place vague;46102\n"
                    "Pôle sans code;10 rue de Rivoli 75004;\n", encoding="utf-8")
    report = importer.run(path, who="t")
    assert report.ok
    text = report.text()
    assert "adresse géocodée" in text and "score trop faible" in text
    got = poles.load().set_index("nom")
    assert got.at["Pôle adressé", "geocodage"] == "adresse" and got.at["Pôle adressé", "latitude"] == 48.9373
    assert got.at["Pôle vague", "geocodage"] == "commune"
    assert (got.at["Pôle sans code", "code_insee"], got.at["Pôle sans code", "commune"]) == ("75056", "Paris")
    assert registry.history().iloc[0]["action"] == "import"


def test_unreachable_server_is_said_in_french(monkeypatch, tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("PTCE_GEO_OFFLINE", "0")
    monkeypatch.setenv("PTCE_GEO_GEOCODER_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setattr(geocoder, "cache_path", lambda: tmp_path / "geocoder.sqlite")
    with pytest.raises(GeocodingError) as err:
        geocoder.search("1 rue de la Paix")
    message = str(err.value)
    assert "connexion refusée" in message and "Max retries" not in message and "HTTPConnectionPool" not in message
    out = geocoder.geocode([("1 rue de la Paix", "75056")])
    assert out[0].geocodage == "commune" and "connexion refusée" in out[0].note
