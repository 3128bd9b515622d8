"""The registry: a fresh install lists the real seed poles with their sources, never on a
guessed point; edits are versioned, recorded, and concurrent edits conflict."""

import csv
import io

import geopandas as gpd
import pandas as pd
import pytest

from ptce_geo import _cli_data, boundaries, cli, communes, poles, registry
from ptce_geo._errors import ConflictError, UnknownChoiceError, ValidationError


@pytest.fixture
def fresh(registry_backend):
    """A fresh registry, in SQLite then in PostgreSQL (tests of storing, history, conflicts)."""
    return poles.load()


@pytest.fixture
def fresh_sqlite(fresh_data):
    """A fresh registry in SQLite only (tests of the data itself, not of its storage)."""
    return poles.load()


def seed_rows():
    with open(registry.seed_path(), encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_fresh_install_lists_real_poles_with_sources(fresh, registry_backend):
    assert registry.path().exists() == (registry_backend == "sqlite")  # PostgreSQL: nothing written to SQLite
    assert len(fresh) == len(seed_rows())  # every seed row, none lost or doubled
    assert list(fresh.columns) == [*poles.COLUMNS, "geometry"]
    assert fresh.crs.to_epsg() == 4326
    assert fresh["id"].is_unique
    for src in fresh["source"]:
        assert src and "http" in src, src
    assert str(fresh["annee_creation"].dtype) == "Int64" and str(fresh["membres"].dtype) == "Int64"
    # the 36 laureates of the shared list are all there, plus the 2014/2015 poles named in the issue
    names = " | ".join(fresh["nom"])
    for name in ["Pôle Sud", "Phares", "Gouttes d'Or", "La Verrière", "TETRIS", "Écopôle alimentaire", "Réuniverre",
                 "PECCS", "Pôle Laine", "LABSPORT", "JADES", "Pays de Bray", "Clus'Ter Jura", "CISDT 52", "Périscope",
                 "Organic'Vallée", "FigeACteurs", "Alpilles",
                 # the second sourcing pass: CRESS Pays de la Loire, Bretagne and Occitanie pages, RTES, press
                 "Écossolies", "Culture à Montaigu", "Vivre les Mureaux", "Fontaine O Livres", "Mady&co",
                 "Station A", "Margeride"]:
        assert name in names, name


# Laureates announced per State call: the seed may hold fewer (not all were found), never more.
LAUREATES = {"AAP 2013": 23, "AAP 2015": 14, "AMI 2021": 15, "AMI 2023": 15, "AMI 2025": 8}


def test_seed_rows_are_sourced_and_located_only_with_a_commune():
    rows = seed_rows()
    assert [r["nom"] for r in rows] == list(dict.fromkeys(r["nom"] for r in rows)), "a pole is listed twice"
    for r in rows:
        assert "http" in r["source"], r["nom"]
        # located exactly when a commune is given; never a commune without a source saying so
        assert (r["localise"] == "oui") == bool(r["code_insee"]), r["nom"]
        assert r["departement"] or r["region"], r["nom"]
        assert r["appel"] in ("", *poles.APPELS), r["nom"]
    per_call = pd.Series([r["appel"] for r in rows if r["appel"]]).value_counts()
    assert set(LAUREATES) == set(poles.APPELS)
    for call, n in per_call.items():
        assert n <= LAUREATES[call], (call, n)


def test_the_2025_call_is_known():
    for spelling in ("AMI 2025", "ami 2025", "2025"):
        rec, problems = poles.normalize({"nom": "P", "appel": spelling})
        assert problems == [] and rec["appel"] == "AMI 2025"
    rec, problems = poles.normalize({"nom": "P", "appel": "AMI 2024"})
    assert problems and "AMI 2025" in problems[0][1]


def test_no_pole_on_a_guessed_point(fresh_sqlite):
    fresh = fresh_sqlite
    seed = {r["nom"]: r for r in seed_rows()}
    com = boundaries.load("commune").set_index("code")
    located = fresh[fresh["localise"]]
    assert len(located) == sum(r["localise"] == "oui" for r in seed.values())
    for row in located.itertuples():
        # located only where the seed gives a sourced commune, at that commune's own point
        assert seed[row.nom]["localise"] == "oui" and seed[row.nom]["code_insee"] == row.code_insee
        assert row.geocodage == "commune"
        assert (row.latitude, row.longitude) == poles.commune_point(row.code_insee)
        # the town hall, inside the commune or within 500 m of it (metres in the local CRS)
        crs = communes.crs_of_group(communes.group_of_departement(row.departement))
        contour = gpd.GeoSeries([com.geometry[row.code_insee]], crs="EPSG:4326").to_crs(crs).iloc[0]
        point = gpd.GeoSeries([row.geometry], crs="EPSG:4326").to_crs(crs).iloc[0]
        assert contour.distance(point) <= communes.MAIRIE_TOLERANCE_M
    unlocated = fresh[~fresh["localise"]]
    assert len(unlocated) > 0
    assert unlocated.geometry.isna().all()
    assert unlocated["latitude"].isna().all() and unlocated["geocodage"].isna().all()
    assert len(poles.load(located_only=True)) == len(located)


def test_pole_placed_at_its_commune_covers_it(fresh_sqlite):
    """A pole located by its commune sits at the point coverage measures from (town hall, else a
    point inside the contour): even a 10 m radius covers its own commune (Arles, whose contour's
    inner point lies 16 km from the town hall in the Camargue, and the vast communes of Guyane)."""
    from ptce_geo import coverage

    pts = coverage.national_points().set_index("code")
    for code in ("13004", "97353", "97311"):  # Arles, Maripasoula, Saint-Laurent-du-Maroni
        lat, lon = poles.commune_point(code)
        assert (lat, lon) == (round(pts.at[code, "lat"], 6), round(pts.at[code, "lon"], 6))
    located = poles.load(located_only=True)
    result = coverage.compute(radius_km=0.01, use_perimeter=False, poles=located)
    covered = result.communes.set_index("code")["covered"]
    assert covered[located["code_insee"]].all()


def test_seed_communes_match_cog_2025(fresh_sqlite):
    fresh = fresh_sqlite
    table = boundaries.commune_table()
    for row in fresh[fresh["localise"]].itertuples():
        assert table.at[row.code_insee, "nom"] == row.commune
        assert table.at[row.code_insee, "departement"] == row.departement


def test_vintage_and_history_of_creation(fresh):
    assert poles.vintage().startswith("registre ptce-geo, mis à jour le 20")
    hist = registry.history()
    assert len(hist) == len(fresh)
    assert set(hist["action"]) == {"création (graine)"}


def test_edit_is_recorded_with_previous_values(fresh):
    rec = registry.get("figeacteurs")
    new = poles.edit("figeacteurs", {"membres": "51", "secteurs": "insertion; Tourisme"}, rec["version"], who="Alice")
    assert new["version"] == rec["version"] + 1
    again = registry.get("figeacteurs")
    assert again["membres"] == 51 and again["secteurs"] == ["insertion", "tourisme"]
    hist = registry.history("figeacteurs")
    last = hist.iloc[0]
    assert (last["auteur"], last["action"]) == ("Alice", "modification")
    assert "membres" in last["champs"] and '"membres": null' in last["avant"] and '"membres": 51' in last["apres"]


def test_concurrent_edits_conflict(fresh):
    seen_a = registry.get("le-periscope")
    seen_b = registry.get("le-periscope")  # two app sessions opened the same pole
    poles.edit("le-periscope", {"membres": "37"}, seen_a["version"], who="session A")
    with pytest.raises(ConflictError) as err:
        poles.edit("le-periscope", {"membres": "12"}, seen_b["version"], who="session B")
    msg = str(err.value)
    assert "Le Périscope" in msg and "session A" in msg and "rechargez" in msg
    assert registry.get("le-periscope")["membres"] == 37
    with pytest.raises(ConflictError):
        registry.delete("le-periscope", seen_b["version"], who="session B")
    assert registry.get("le-periscope")["version"] == seen_a["version"] + 1


def test_invalid_edit_changes_nothing(fresh, snapshot):
    before = snapshot()
    rec = registry.get("labsport")
    with pytest.raises(ValidationError, match="annee_creation"):
        poles.edit("labsport", {"annee_creation": "deux mille"}, rec["version"], who="x")
    with pytest.raises(ValidationError, match="code INSEE inconnu"):
        poles.edit("labsport", {"code_insee": "99999"}, rec["version"], who="x")
    assert snapshot() == before
    with pytest.raises(UnknownChoiceError):
        registry.get("nope")


def test_moving_a_pole_to_another_commune_moves_its_point(fresh):
    rec = registry.get("labsport")
    new = poles.edit("labsport", {"code_insee": "44109"}, rec["version"], who="x")  # Nantes
    assert new["commune"] == "Nantes" and (new["latitude"], new["longitude"]) == poles.commune_point("44109")


def test_search(fresh_sqlite):
    fresh = fresh_sqlite
    assert list(poles.search(fresh, "figeac")["id"]) == ["figeacteurs"]
    assert set(poles.search(fresh, "ami 2023 reunion")["nom"]) >= {"Echobat (Réunion)"}
    assert len(poles.search(fresh, "")) == len(fresh)


def test_cli_list_and_export(fresh, tmp_path, capsysbinary):
    assert cli.main(["poles", "list"]) == 0
    out = capsysbinary.readouterr().out.decode("utf-8")
    table = pd.read_csv(io.StringIO(out), dtype=str)
    assert len(table) == len(fresh) and table["source"].notna().all()
    target = tmp_path / "poles.geojson"
    assert cli.main(["poles", "export", "-o", str(target)]) == 0
    import geopandas as gpd

    back = gpd.read_file(target)
    assert len(back) == len(fresh)
    assert cli.main(["poles", "history"]) == 0


def test_prepare_initialises_the_registry(registry_backend, capsys):
    _cli_data.prepare_poles()
    assert registry.path().exists() == (registry_backend == "sqlite")
    out = capsys.readouterr().out
    assert "Registre des pôles prêt" in out and len(registry.records()) == len(seed_rows())
    if registry_backend == "postgresql":
        assert "postgresql://" in out


def test_newer_seed_reaches_an_existing_registry_without_overwriting_people(registry_backend, tmp_path, monkeypatch):
    """A registry made from an older seed gets the new seed's poles and facts, except where a
    person edited or deleted a pole; applying the same seed twice changes nothing."""
    real_seed = registry.seed_path()
    rows = seed_rows()
    header = list(rows[0])
    # The "old" seed: one pole missing, one pole without its site, one pole a person will edit,
    # one pole a person will delete.
    missing, stale, edited, deleted = rows[0], rows[1], rows[2], rows[3]
    old_rows = [dict(r) for r in rows if r is not missing]
    old_rows[0]["site_web"] = ""  # rows[1] (stale) is now first
    old = tmp_path / "old_seed.csv"
    with open(old, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows(old_rows)
    monkeypatch.setattr(registry, "seed_path", lambda: old)
    before = {r["nom"]: r for r in registry.records()}
    assert missing["nom"] not in before
    edited_rec = next(r for r in registry.records() if r["nom"] == edited["nom"])
    registry.update(edited_rec["id"], {"site_web": "https://exemple.org/mon-pole"}, edited_rec["version"], who="rtes")
    deleted_rec = next(r for r in registry.records() if r["nom"] == deleted["nom"])
    registry.delete(deleted_rec["id"], deleted_rec["version"], who="rtes")

    monkeypatch.setattr(registry, "seed_path", lambda: real_seed)
    news = registry.refresh_from_seed()
    after = {r["nom"]: r for r in registry.records()}
    assert missing["nom"] in after and len(news["ajoutes"]) == 1
    assert after[edited["nom"]]["site_web"] == "https://exemple.org/mon-pole"  # a person's edit stays
    assert deleted["nom"] not in after  # a person's deletion stays
    assert stale["site_web"], "the test needs a seed pole with a site in row 2"
    assert after[stale["nom"]]["site_web"] == stale["site_web"]  # an untouched pole takes the new fact
    assert after[stale["nom"]]["id"] in news["mis_a_jour"]
    assert registry.refresh_from_seed() == {"ajoutes": [], "mis_a_jour": []}
    hist = registry.history()
    assert (hist["note"] == "graine geodata/poles_seed.csv mise à jour").sum() == len(news["ajoutes"]) + len(news["mis_a_jour"])


def test_ids_transliterate_ligatures_but_old_ids_are_kept(registry_backend):
    assert registry._slug("Coopérative Cœur de Lozère") == "cooperative-coeur-de-lozere"
    assert registry._slug("Æsope") == "aesope"
    assert poles.fold("Vœuil-et-Giget") == "voeuil et giget"
    peccs = next(r for r in registry.records() if r["nom"].startswith("PECCS"))
    assert "coeur" in peccs["id"]
    # A registry made before the transliteration holds the old id: refreshing the seed keeps it
    legacy = registry._legacy_slug(peccs["nom"])
    assert legacy != peccs["id"] and "-cur-" in legacy
    with registry.connect() as con:
        con.execute("UPDATE poles SET id = ? WHERE id = ?", (legacy, peccs["id"]))
        con.execute("UPDATE history SET pole_id = ? WHERE pole_id = ?", (legacy, peccs["id"]))
        con.execute("UPDATE poles SET source = NULL WHERE id = ?", (legacy,))
        con.execute("UPDATE meta SET value = 'ancienne' WHERE key = 'seed_sha256'")
    news = registry.refresh_from_seed()
    assert news["ajoutes"] == [] and legacy in news["mis_a_jour"]
    ids = [r["id"] for r in registry.records()]
    assert legacy in ids and peccs["id"] not in ids


def test_form_reports_every_problem_and_checks_the_commune_name(fresh_sqlite):
    fresh = fresh_sqlite
    pid = fresh["id"].iloc[0]
    rec = registry.get(pid)
    with pytest.raises(ValidationError) as err:
        poles.edit(pid, {"code_insee": "99999", "annee_creation": "3000"}, rec["version"], who="t")
    assert "code_insee" in str(err.value) and "annee_creation" in str(err.value)
    rec2, problems = poles.validate({"nom": "X", "code_insee": "13004", "commune": "Marseille"})
    assert [f for f, _ in problems] == ["commune"] and "'Arles'" in problems[0][1]
    assert poles.same_commune_name("L'Île-Saint-Denis", "L'Île-Saint-Denis")
    assert poles.same_commune_name("ile saint denis", "L'Île-Saint-Denis")
    assert not poles.same_commune_name("Marseille", "Arles")
