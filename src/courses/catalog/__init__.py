"""The catalog of every campus: courses, sessions, search, as pages and API."""
