"""The staff console in the browser: the same services as ``console_api``, as lists and forms whose
messages appear next to the field they are about. Administrators also get /admin/staff and /admin/audit.

The pages live in ``entity_pages`` (each record kind, with its CSV export and import), ``session_pages``
(the start page, room outages and sessions) and ``admin_pages`` (/admin); this module lists their
controllers for the app."""

from __future__ import annotations

from typing import Any

from courses.console.admin_pages import AdminPages
from courses.console.entities import ENTITIES
from courses.console.entity_pages import csv_pages, entity_pages
from courses.console.session_pages import ConsolePages


def controllers() -> list[Any]:
    out: list[Any] = []
    for ent in ENTITIES.values():
        if ent.csv:
            out.append(csv_pages(ent))
        out.append(entity_pages(ent))
    return [*out, ConsolePages, AdminPages]
