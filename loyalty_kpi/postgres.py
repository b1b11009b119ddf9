"""PostgreSQL for the `postgres` target: connection settings from env vars, and a local PostgreSQL 15
cluster (`make postgres-up` / `make postgres-down`, the tests) with the owner and read-only BI roles.

The cluster listens on 127.0.0.1 only, with trust authentication there (no password is stored
anywhere). initdb and postgres refuse to run as root, so as root they run as the `postgres` user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

PG_BIN = Path(os.environ.get("LOYALTY_PG_BIN", "/usr/lib/postgresql/15/bin"))


@dataclass(frozen=True)
class PgSettings:
    """Where the warehouse database is and who owns it: the env vars profiles.yml reads, same defaults."""

    host: str = field(default_factory=lambda: os.environ.get("LOYALTY_PG_HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: int(os.environ.get("LOYALTY_PG_PORT", "5433")))
    database: str = field(default_factory=lambda: os.environ.get("LOYALTY_PG_DATABASE", "loyalty"))
    user: str = field(default_factory=lambda: os.environ.get("LOYALTY_PG_USER", "loyalty"))
    password: str = field(default_factory=lambda: os.environ.get("LOYALTY_PG_PASSWORD", ""))
    bi_role: str = field(default_factory=lambda: os.environ.get("LOYALTY_PG_BI_ROLE", "loyalty_bi"))

    def conninfo(self, user: str | None = None, database: str | None = None) -> str:
        """A libpq connection string (as the owner unless another user is named)."""
        return psycopg.conninfo.make_conninfo(
            host=self.host,
            port=self.port,
            dbname=database or self.database,
            user=user or self.user,
            password=self.password or None,
        )

    def env(self) -> dict[str, str]:
        """These settings as the LOYALTY_PG_* env vars (for dbt and subprocesses)."""
        return {
            "LOYALTY_PG_HOST": self.host,
            "LOYALTY_PG_PORT": str(self.port),
            "LOYALTY_PG_DATABASE": self.database,
            "LOYALTY_PG_USER": self.user,
            "LOYALTY_PG_PASSWORD": self.password,
            "LOYALTY_PG_BI_ROLE": self.bi_role,
        }


def _as_postgres(command: list[str]) -> list[str]:
    """Run as the `postgres` OS user when we are root (PostgreSQL refuses root)."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _give_to_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


def start_cluster(cluster_dir: Path, settings: PgSettings) -> None:
    """Create (first time) and start a cluster in cluster_dir on 127.0.0.1:port, then ensure the roles.

    cluster_dir holds `data/` and `postgres.log`. Idempotent: an initialised cluster is only started,
    a running one left as it is.
    """
    if not (PG_BIN / "initdb").exists():
        raise FileNotFoundError(f"PostgreSQL 15 not found in {PG_BIN}: apt-get install -y postgresql")
    cluster_dir.mkdir(parents=True, exist_ok=True)
    _give_to_postgres(cluster_dir)
    data_dir = cluster_dir / "data"
    if not (data_dir / "PG_VERSION").exists():
        subprocess.run(
            _as_postgres(
                [str(PG_BIN / "initdb"), "-D", str(data_dir), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                 "--locale=C.UTF-8"]
            ),
            check=True,
            capture_output=True,
        )  # fmt: skip
        with (data_dir / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# loyalty_kpi: local only, UTC\n"
                "listen_addresses = '127.0.0.1'\nunix_socket_directories = ''\ntimezone = 'UTC'\n"
                "synchronous_commit = off\nshared_buffers = '1GB'\nwork_mem = '64MB'\n"
                "maintenance_work_mem = '256MB'\nmax_wal_size = '4GB'\n"
            )
    if not is_running(cluster_dir):
        subprocess.run(
            _as_postgres(
                [str(PG_BIN / "pg_ctl"), "-D", str(data_dir), "-l", str(cluster_dir / "postgres.log"),
                 "-o", f"-p {settings.port}", "-w", "-t", "60", "start"]
            ),
            check=True,
            capture_output=True,
        )  # fmt: skip
    create_roles(settings)


def is_running(cluster_dir: Path) -> bool:
    """Whether the cluster's postmaster (its PID file) is alive."""
    status = subprocess.run(
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(cluster_dir / "data"), "status"]),
        capture_output=True,
        check=False,
    )
    return status.returncode == 0


def stop_cluster(cluster_dir: Path) -> None:
    """Stop the cluster by the PID in its postmaster.pid (pg_ctl stop); nothing if it is not running."""
    if (cluster_dir / "data" / "postmaster.pid").exists():
        subprocess.run(
            _as_postgres(
                [str(PG_BIN / "pg_ctl"), "-D", str(cluster_dir / "data"), "-m", "fast", "-w", "stop"]
            ),
            check=True,
            capture_output=True,
        )


def create_roles(settings: PgSettings, superuser: str = "postgres") -> None:
    """The owner role and its database, and the BI role: login, connect, nothing else.

    What the BI role may read is granted by dbt (`grants:` on the marts, and usage on the marts schema
    in an on-run-end hook). Temporary tables are not granted to PUBLIC, so the BI role cannot write at all.
    """
    owner, bi_role, database = (
        sql.Identifier(n) for n in (settings.user, settings.bi_role, settings.database)
    )
    with psycopg.connect(settings.conninfo(user=superuser, database="postgres"), autocommit=True) as conn:
        for role in (settings.user, settings.bi_role):
            if conn.execute("select 1 from pg_roles where rolname = %s", [role]).fetchone() is None:
                conn.execute(sql.SQL("create role {} login").format(sql.Identifier(role)))
        if (
            conn.execute("select 1 from pg_database where datname = %s", [settings.database]).fetchone()
            is None
        ):
            conn.execute(sql.SQL("create database {} owner {}").format(database, owner))
        conn.execute(sql.SQL("revoke all on database {} from public").format(database))
        conn.execute(sql.SQL("grant connect on database {} to {}").format(database, bi_role))
        conn.execute(sql.SQL("grant all on database {} to {}").format(database, owner))
    with psycopg.connect(settings.conninfo(user=superuser), autocommit=True) as conn:
        conn.execute("revoke all on schema public from public")
        conn.execute(sql.SQL("grant all on schema public to {}").format(owner))
