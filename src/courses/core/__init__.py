"""Shared infrastructure: database, settings, errors and problem details, security, templates, downloads, notifications."""
