"""The public ITC-2007 instances (in `ITC2007_DIR`) and a tiny hand-made one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The competition's .ctt files and best_known.csv; by default where this workplace keeps them.
_DEFAULT = Path(__file__).resolve().parents[4] / "shared" / "benchmarks" / "itc2007"
BENCH = Path(os.environ.get("ITC2007_DIR") or _DEFAULT)
needs_bench = pytest.mark.skipif(
    not (BENCH / "comp01.ctt").exists(), reason=f"ITC-2007 instances not found at {BENCH}"
)

TINY = """Name: tiny
Courses: 3
Rooms: 2
Days: 2
Periods_per_day: 2
Curricula: 1
Constraints: 1

COURSES:
c1 t1 2 2 8
c2 t2 1 1 6
c3 t1 1 1 3

ROOMS:
A 10
B 5

CURRICULA:
q1 2 c1 c2

UNAVAILABILITY_CONSTRAINTS:
c3 0 0

END.
"""
