"""Hostile street submissions with known ground truth (see docs/hostile-testing.md)."""
