"""junction.routing."""
