"""The results store: every ``validate``, ``demo`` and ``gate`` run recorded in one SQLite file.

The store is embedded (standard library ``sqlite3``), needs no setup, and lives by default in a per-user data
folder (:func:`default_store_path`); ``--store PATH`` or ``$STANCEBENCH_STORE`` point at a shared one. The schema
version is kept in ``PRAGMA user_version``; an older store is migrated forward on open, a newer one is refused
with a :class:`StoreError` (an ``InputError``: CLI exit 2) naming the file and both versions.

Public API
----------
- :func:`open_store` opens (and by default creates) a store and returns a :class:`Store`.
- :class:`Store` records runs (:meth:`Store.record_run`, :meth:`Store.record_gate`) and reads them back
  (:meth:`Store.runs`, :meth:`Store.run`, :meth:`Store.resolve_run`, :meth:`Store.check`). Other modules under
  ``harness.store`` may query :attr:`Store.connection` (a ``sqlite3.Connection``, rows as ``sqlite3.Row``).
"""
from __future__ import annotations

from .db import SCHEMA_VERSION, STORE_ENV, Store, StoreError, default_store_path, open_store

__all__ = ["SCHEMA_VERSION", "STORE_ENV", "Store", "StoreError", "default_store_path", "open_store"]
