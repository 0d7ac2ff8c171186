"""Dagster wiring: resources, assets by layer, checks, sensors, jobs."""
