"""junction.catalog."""
