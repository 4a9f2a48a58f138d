"""Benchmarks: run on demand (`python -m bench.NAME`), not as timed tests in CI."""
