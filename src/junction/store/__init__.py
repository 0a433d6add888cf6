"""junction.store."""
