"""A PostgreSQL database for the suite: a fresh database on the server at PDW_TEST_DATABASE_URL,
or, where none answers but PostgreSQL's programs are installed, a throwaway cluster of our own."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

DEFAULT_URL = "postgresql://127.0.0.1:5432/test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    return None


@dataclass
class Cluster:
    """A PostgreSQL of the tests' own; ``stop()`` takes it down (a fault test), as at the end, and
    ``start()`` brings it back on the same data and port."""

    url: str
    stop: Callable[[], None]
    start: Callable[[], None] = lambda: None


@contextmanager
def _throwaway_cluster() -> Iterator[str]:
    with throwaway_cluster() as cluster:
        yield cluster.url


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not (initdb and pg_ctl):
        raise RuntimeError(
            "没有可用的 PostgreSQL：PDW_TEST_DATABASE_URL（默认 postgresql://127.0.0.1:5432/test）无应答，"
            "本机也没有 initdb/pg_ctl。请启动 PostgreSQL 并设置 PDW_TEST_DATABASE_URL，"
            "或安装 PostgreSQL（Debian：apt-get install postgresql）。"
        )
    root = Path(tempfile.mkdtemp(prefix="pdw-pg-"))
    data, port = root / "data", free_port()
    # PostgreSQL refuses to run as root: run it as the postgres user where we are root.
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if run_as:
        shutil.chown(root, "postgres")
    subprocess.run([*run_as, initdb, "-D", str(data), "-A", "trust", "-U", "postgres"], check=True,
                   capture_output=True)

    def start() -> None:
        subprocess.run(
            [*run_as, pg_ctl, "-D", str(data), "-l", str(root / "log"), "-w", "-o",
             f"-p {port} -k {root} -h 127.0.0.1", "start"],
            check=True, capture_output=True,
        )

    def stop() -> None:
        subprocess.run([*run_as, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)

    start()
    try:
        yield Cluster(f"postgresql://postgres@127.0.0.1:{port}/postgres", stop, start)
    finally:
        stop()
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def fresh_database() -> Iterator[str]:
    """Yield the URL of a new, empty database, dropped afterwards."""
    url = os.environ.get("PDW_TEST_DATABASE_URL", DEFAULT_URL)
    with (_server(url) as server_url):
        name = f"pdw_test_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        base, _, _ = server_url.rpartition("/")
        try:
            yield f"{base}/{name}"
        finally:
            with psycopg.connect(server_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def _server(url: str) -> Iterator[str]:
    if _answers(url):
        yield url
        return
    with _throwaway_cluster() as own:
        yield own
