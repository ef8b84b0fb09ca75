"""Benchmarks run by make bench; not part of the app or the test suite."""
