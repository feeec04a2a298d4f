"""Benchmarks that are client code: they drive a service through its real clients and time it."""
