"""Tenants: declarative folders under ``tenants/``, resolved per request from the Host header."""
