"""Explicitly marked dependencies that handlers ask for by name."""

from __future__ import annotations

from litestar.di import NamedDependency

from courses.core.db import Database

DB = NamedDependency[Database]
