"""The store's connection pool across a database restart: a connection that sat idle is pinged
before use and replaced if dead, so the first request after a restart does not fail; one in steady
use is not pinged (a round trip saved on every transaction: issue 14)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

import activities.store as store
from tests.pg import throwaway_cluster


def test_a_connection_idle_across_a_restart_is_replaced_before_use(monkeypatch: pytest.MonkeyPatch) -> None:
    with throwaway_cluster() as cluster:
        # Two engines on the one cluster (the URLs differ only in a name the server ignores).
        pinged = store.engine_for(f"postgresql+psycopg://{cluster.url.removeprefix('postgresql://')}?application_name=pinged")
        steady = store.engine_for(f"postgresql+psycopg://{cluster.url.removeprefix('postgresql://')}?application_name=steady")
        for eng in (pinged, steady):
            with eng.connect() as conn:  # one connection each, back in the pool
                assert conn.execute(text("select 1")).scalar() == 1
        cluster.stop()
        cluster.start()
        time.sleep(0.2)

        monkeypatch.setattr(store, "IDLE_PING_SECONDS", 3600.0)  # as if in steady use: not pinged
        with pytest.raises(OperationalError), steady.connect() as conn:
            conn.execute(text("select 1"))

        monkeypatch.setattr(store, "IDLE_PING_SECONDS", 0.1)  # idle: pinged, found dead, replaced
        with pinged.connect() as conn:
            assert conn.execute(text("select 1")).scalar() == 1
        pinged.dispose()
        steady.dispose()
