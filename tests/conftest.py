"""Test settings shared by the suite."""

from hypothesis import settings

# Deterministic and bounded: CI runs on 2 cores, and SymPy-heavy tests are slow per example.
settings.register_profile("ci", max_examples=30, deadline=None, derandomize=True)
settings.load_profile("ci")
