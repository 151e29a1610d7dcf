"""Test groups: every module here is imported by tests/run.py and registers
its groups with testlib.group."""
