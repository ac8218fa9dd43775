"""The SQLite result store of benchmark sweeps: one row per finished run, written at once.

The file is opened in WAL mode so that a report can read it while a sweep writes. A run is
identified by ``(collection, instance, solver, seed, time_limit)``; each row is inserted in
its own transaction when its run has finished, so an interrupted sweep leaves only whole
rows and a rerun skips what is stored.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hybridsolve.mip import InputError

__all__ = ["COLUMNS", "KEY", "SCHEMA_VERSION", "Store"]

#: Bumped when the table layout changes.
SCHEMA_VERSION = 2
#: The columns identifying a run.
KEY = ("collection", "instance", "solver", "seed", "time_limit")
#: Every column of the ``runs`` table, with its SQL type.
COLUMNS = {
    "collection": "TEXT NOT NULL",
    "instance": "TEXT NOT NULL",
    "solver": "TEXT NOT NULL",
    "seed": "INTEGER NOT NULL",
    "time_limit": "REAL NOT NULL",
    "status": "TEXT NOT NULL",
    "objective": "REAL",
    "dual_bound": "REAL",
    "sense": "TEXT NOT NULL",
    "runtime": "REAL NOT NULL",
    "nodes": "INTEGER",
    "certified": "INTEGER",
    "trajectory": "TEXT NOT NULL",
    "reference": "REAL",
    "message": "TEXT NOT NULL",
    "stats": "TEXT NOT NULL",
    "host": "TEXT NOT NULL",
    "finished_at": "TEXT NOT NULL",
}


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


class Store:
    """A results database file.

    Parameters
    ----------
    path : str or pathlib.Path
        The SQLite file; created with its table when missing.

    Raises
    ------
    InputError
        When the file cannot be opened or is not a hybridsolve results database.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._db = sqlite3.connect(self.path, timeout=30.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._create()
        except sqlite3.DatabaseError as error:
            raise InputError(f"{self.path}: not a usable results database ({error})") from None

    def _create(self) -> None:
        columns = ", ".join(f"{name} {kind}" for name, kind in COLUMNS.items())
        with self._db:
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            self._db.execute(
                f"CREATE TABLE IF NOT EXISTS runs ({columns}, PRIMARY KEY ({', '.join(KEY)}))"
            )
            self._db.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
        found = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if found is not None and found[0] == "1":  # version 1 had no stats column
            with self._db:
                self._db.execute("ALTER TABLE runs ADD COLUMN stats TEXT NOT NULL DEFAULT '{}'")
                self._db.execute("UPDATE meta SET value='2' WHERE key='schema_version'")
            found = ("2",)
        if found is None or int(found[0]) != SCHEMA_VERSION:
            raise InputError(f"{self.path}: results schema {found}, expected {SCHEMA_VERSION}")

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def keys(self) -> set[tuple]:
        """The keys ``(collection, instance, solver, seed, time_limit)`` of stored runs."""
        rows = self._db.execute(f"SELECT {', '.join(KEY)} FROM runs").fetchall()
        return {(c, i, s, int(seed), float(limit)) for c, i, s, seed, limit in rows}

    def add(self, record: dict[str, Any]) -> bool:
        """Store one finished run in its own transaction.

        Parameters
        ----------
        record : dict
            Every key of :data:`COLUMNS`; ``trajectory`` as a list of
            ``[time, primal, dual]``, ``certified`` as bool or None, ``stats`` the
            solver's statistics as a JSON-compatible dict (LNS: per-operator figures).

        Returns
        -------
        bool
            False when a run with the same key was stored already (the row is kept).
        """
        row = dict(record)
        row["trajectory"] = json.dumps(
            [[_finite(v) for v in point] for point in row["trajectory"]], allow_nan=False
        )
        row["certified"] = None if row["certified"] is None else int(bool(row["certified"]))
        row["stats"] = json.dumps(row["stats"], allow_nan=False, default=float)
        for name in ("objective", "dual_bound", "reference"):
            row[name] = _finite(row[name])
        values = [row[name] for name in COLUMNS]
        marks = ", ".join("?" for _ in COLUMNS)
        with self._db:
            cursor = self._db.execute(f"INSERT OR IGNORE INTO runs VALUES ({marks})", values)
        return cursor.rowcount == 1

    def rows(self, collections: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Every stored run as a dict (``trajectory`` decoded, ``certified`` bool or None).

        Parameters
        ----------
        collections : iterable of str, optional
            Only these collections.

        Returns
        -------
        list of dict
            In key order.
        """
        query = f"SELECT {', '.join(COLUMNS)} FROM runs ORDER BY {', '.join(KEY)}"
        out = []
        wanted = None if collections is None else set(collections)
        for values in self._db.execute(query):
            row = dict(zip(COLUMNS, values))
            if wanted is not None and row["collection"] not in wanted:
                continue
            row["trajectory"] = [list(point) for point in json.loads(row["trajectory"])]
            row["certified"] = None if row["certified"] is None else bool(row["certified"])
            row["stats"] = json.loads(row["stats"])
            out.append(row)
        return out
