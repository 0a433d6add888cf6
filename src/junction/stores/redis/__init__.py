"""The shared backends on Redis."""
