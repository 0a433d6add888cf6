"""junction.telemetry."""
