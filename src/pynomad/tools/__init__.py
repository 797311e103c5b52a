"""Operator and benchmark tools built on the client (imports everything above it)."""
