"""Benchmark harness (issue #6): ``python -m bench`` or ``make bench``; see bench/cli.py."""
