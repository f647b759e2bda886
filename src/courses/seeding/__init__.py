"""Seed files and the demo data."""
