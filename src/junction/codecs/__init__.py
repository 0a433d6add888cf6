"""Sans-I/O wire codecs: one module per wire API, both directions."""
