"""Keystone v3 (identity)."""
