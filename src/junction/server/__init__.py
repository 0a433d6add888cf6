"""junction.server."""
