"""Helpers more than one dialect uses: one copy each, no wire format of their own."""
