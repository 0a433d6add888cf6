"""The embedded SQL backend: one SQLite file, safe for several processes."""
