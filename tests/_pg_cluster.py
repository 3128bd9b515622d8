"""A throwaway PostgreSQL cluster with PostGIS, for the tests and benchmarks (never for production).

``Cluster().start()`` runs ``initdb`` into a temporary folder and ``pg_ctl start`` on a free port
(127.0.0.1 only, a password for TCP connections as a real server would ask — so every test
URL carries a password that messages must mask —, no fsync: nothing here is worth keeping), creates a
template database holding the PostGIS extension (with a French ICU collation, as a server in France
would sort text), and ``new_database()`` copies it in a tenth of a second. ``stop()`` stops the server and deletes the folder. PostgreSQL refuses to run as root:
under root the commands run as the Debian ``postgres`` user (``runuser``), which owns the folder.

``missing()`` says (in French and English) which Debian packages are needed when the binaries
or PostGIS are absent — the tests are then skipped with that message.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from _browser import free_port

PACKAGES = "postgresql-15 postgresql-15-postgis-3"
TEMPLATE = "ptce_template"
PASSWORD = "mot-de-passe-de-test"


def bin_dir() -> Path | None:
    """Folder of ``initdb``/``pg_ctl``: Debian's /usr/lib/postgresql/<version>/bin (15 first), else PATH."""
    root = Path("/usr/lib/postgresql")
    versions = sorted((p for p in root.glob("*/bin") if (p / "initdb").exists()),
                      key=lambda p: (p.parent.name != "15", -int(p.parent.name) if p.parent.name.isdigit() else 0))
    if versions:
        return versions[0]
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


def _postgis_control(bindir: Path) -> bool:
    version = bindir.parent.name
    candidates = [Path(f"/usr/share/postgresql/{version}/extension/postgis.control")]
    try:
        out = subprocess.run([str(bindir / "pg_config"), "--sharedir"], capture_output=True, text=True, timeout=10)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()) / "extension" / "postgis.control")
    except OSError:
        pass
    return any(c.exists() for c in candidates)


def missing() -> str | None:
    """Why a cluster cannot be started here (None when it can)."""
    bindir = bin_dir()
    if bindir is None:
        return (f"PostgreSQL absent (initdb, pg_ctl introuvables) : installez les paquets Debian {PACKAGES} — "
                f"PostgreSQL not installed: apt-get install {PACKAGES}")
    if not _postgis_control(bindir):
        return (f"PostGIS absent de PostgreSQL {bindir.parent.name} : installez le paquet Debian "
                f"postgresql-{bindir.parent.name}-postgis-3 — PostGIS not installed")
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return ("PostgreSQL refuse de tourner en root et l'utilisateur « postgres » n'existe pas : installez "
                    f"{PACKAGES} (qui le crée) — running as root needs the postgres user")
    return None


class Cluster:
    def __init__(self):
        self.bindir = bin_dir()
        self.base: Path | None = None
        self.port: int | None = None
        self._as_postgres = os.geteuid() == 0

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)

    def _log_tail(self) -> str:
        try:
            return (self.base / "server.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def start(self) -> "Cluster":
        reason = missing()
        if reason:
            raise RuntimeError(reason)
        self.base = Path(tempfile.mkdtemp(prefix="ptce-pg-"))
        if self._as_postgres:
            shutil.chown(self.base, "postgres", "postgres")
        data = self.base / "data"
        pwfile = self.base / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if self._as_postgres:
            shutil.chown(pwfile, "postgres", "postgres")
        out = self._run("initdb", "-D", str(data), "--auth-local=trust", "--auth-host=scram-sha-256",
                        f"--pwfile={pwfile}", "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        if out.returncode != 0:
            raise RuntimeError(f"initdb a échoué : {out.stderr[-1500:]}")
        self.port = free_port()
        options = (f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=120")
        out = self._run("pg_ctl", "-D", str(data), "-o", options, "-l", str(self.base / "server.log"), "-w",
                        "-t", "120", "start")
        if out.returncode != 0:
            raise RuntimeError(f"pg_ctl start a échoué : {out.stderr[-800:]}\n{self._log_tail()}")
        try:  # French collation, as a server in France would have: text is not ordered as in SQLite
            self.admin(f"CREATE DATABASE {TEMPLATE} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'fr-FR' "
                       "LOCALE 'C.UTF-8'")
        except Exception:  # noqa: BLE001 - PostgreSQL built without ICU
            self.admin(f"CREATE DATABASE {TEMPLATE}")
        self.admin("CREATE EXTENSION postgis", database=TEMPLATE)
        return self

    def url(self, database: str, user: str = "postgres", password: str | None = PASSWORD) -> str:
        auth = f"{user}:{password}" if password else user
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str, database: str = "postgres", params=None) -> list:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True, connect_timeout=30) as con:
            cur = con.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def new_database(self, name: str, template: str = TEMPLATE) -> str:
        """A fresh database (a copy of ``template``, PostGIS included); return its URL."""
        self.admin(f"CREATE DATABASE {name} TEMPLATE {template}")
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        if self.base is None:
            return
        if self.port is not None:
            self._run("pg_ctl", "-D", str(self.base / "data"), "-m", "immediate", "-w", "stop", timeout=60)
        shutil.rmtree(self.base, ignore_errors=True)
        self.base = None
