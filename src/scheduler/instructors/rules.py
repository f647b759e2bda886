"""The hard rules of the CP-SAT model that need more than one constraint per module."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from scheduler.instructor_types import Teaching


def _one_place_at_a_time(m: Any, taught: list[tuple[Teaching, Any]]) -> None:
    """An instructor teaches at most one module in each half day."""
    at: dict[tuple[date, int], list[Any]] = defaultdict(list)
    for t, lit in taught:
        for h in t.halves():
            at[h].append(lit)
    for lits in at.values():
        if len(lits) > 1:
            m.add_at_most_one(lits)


def _travel_day(m: Any, iid: str, taught: list[tuple[Teaching, Any]]) -> dict[tuple[str, date, str], Any]:
    """Days at different campuses are at least a travel day apart.

    One campus a day, and the next day the same campus or none. Linear in days: "teaches at
    campus c on day d" booleans."""
    campus_day: dict[tuple[str, date], list[Any]] = defaultdict(list)
    for t, lit in taught:
        campus_day[t.campus, t.day].append(lit)
    if len({c for c, _ in campus_day}) < 2:
        return {}
    at: dict[date, dict[str, Any]] = defaultdict(dict)
    for (c, d), lits in campus_day.items():
        v = at[d][c] = m.new_bool_var(f"teaches_at[instructor={iid},campus={c},day={d.isoformat()}]")
        for lit in lits:
            m.add_implication(lit, v)
    for d, here in at.items():
        if len(here) > 1:
            m.add_at_most_one(list(here.values()))
        nxt = at.get(d + timedelta(1), {})
        for c, v in here.items():
            others = [o for c2, o in nxt.items() if c2 != c]
            if others:
                m.add(v + sum(others) <= 1)
    return {(iid, d, c): v for d, here in at.items() for c, v in here.items()}
