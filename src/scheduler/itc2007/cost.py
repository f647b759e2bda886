"""Independent scorer of CB-CTT solutions (ITC-2007 track 3, formulation UD2).

Recomputes every violation and penalty from the instance and the lecture list alone, without
any of the solver's data structures, so that tests and the benchmark can trust it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from scheduler.itc2007.reader import Instance
from scheduler.itc2007.writer import Lecture

ROOM_CAPACITY_WEIGHT = 1
MIN_WORKING_DAYS_WEIGHT = 5
CURRICULUM_COMPACTNESS_WEIGHT = 2
ROOM_STABILITY_WEIGHT = 1


@dataclass
class Score:
    """Hard violations and weighted soft costs, by kind, with human-readable details."""

    lectures: int = 0  # lectures missing (or scheduled too often, or twice in one period)
    conflicts: int = 0  # pairs of curriculum/teacher-conflicting lectures in one period
    room_occupancy: int = 0  # extra lectures in a room and period
    availability: int = 0  # lectures in a period their course cannot use
    invalid: int = 0  # lines naming an unknown course or room, or a day/period out of range
    room_capacity: int = 0
    min_working_days: int = 0
    curriculum_compactness: int = 0
    room_stability: int = 0
    details: list[str] = field(default_factory=list)

    @property
    def hard(self) -> int:
        return self.lectures + self.conflicts + self.room_occupancy + self.availability + self.invalid

    @property
    def soft(self) -> int:
        return self.room_capacity + self.min_working_days + self.curriculum_compactness + self.room_stability

    def summary(self) -> str:
        return (
            f"hard={self.hard} (lectures={self.lectures} conflicts={self.conflicts} "
            f"room_occupancy={self.room_occupancy} availability={self.availability} invalid={self.invalid}) "
            f"soft={self.soft} (room_capacity={self.room_capacity} min_working_days={self.min_working_days} "
            f"curriculum_compactness={self.curriculum_compactness} room_stability={self.room_stability})"
        )


def score(inst: Instance, lectures: list[Lecture]) -> Score:
    """Score a solution. Each lecture line is one lecture; the order of lines does not matter."""
    s = Score()
    courses = {c.name: c for c in inst.courses}
    rooms = {r.name: r for r in inst.rooms}
    valid: list[Lecture] = []
    for x in lectures:
        if x.course not in courses or x.room not in rooms:
            s.invalid += 1
            s.details.append(f"unknown course or room: {x}")
        elif not (0 <= x.day < inst.days and 0 <= x.period < inst.periods_per_day):
            s.invalid += 1
            s.details.append(f"day or period out of range: {x}")
        else:
            valid.append(x)

    per_course_period: Counter[tuple[str, int, int]] = Counter((x.course, x.day, x.period) for x in valid)
    per_course: Counter[str] = Counter(x.course for x in valid)

    # Lectures: each course exactly its number of lectures, in distinct periods.
    for c in inst.courses:
        diff = abs(c.lectures - per_course[c.name])
        if diff:
            s.lectures += diff
            s.details.append(
                f"course {c.name}: {per_course[c.name]} lectures scheduled, {c.lectures} required"
            )
    for (course, day, period), n in per_course_period.items():
        if n > 1:
            s.lectures += n - 1
            s.details.append(f"course {course}: {n} lectures at day {day} period {period}")

    # Conflicts: two courses of one curriculum or one teacher in the same period.
    conflicting: set[tuple[str, str]] = set()
    for cur in inst.curricula:
        for a in cur.courses:
            for b in cur.courses:
                if a < b:
                    conflicting.add((a, b))
    for first in inst.courses:
        for second in inst.courses:
            if first.name < second.name and first.teacher == second.teacher:
                conflicting.add((first.name, second.name))
    courses_at: dict[tuple[int, int], set[str]] = defaultdict(set)
    for course, day, period in per_course_period:
        courses_at[(day, period)].add(course)
    for (day, period), present in courses_at.items():
        for a in present:
            for b in present:
                if (a, b) in conflicting:
                    s.conflicts += 1
                    s.details.append(f"conflict: {a} and {b} at day {day} period {period}")

    # Room occupancy: one lecture per room and period.
    per_room_period = Counter((x.room, x.day, x.period) for x in valid)
    for (room, day, period), n in per_room_period.items():
        if n > 1:
            s.room_occupancy += n - 1
            s.details.append(f"room {room}: {n} lectures at day {day} period {period}")

    # Availability.
    for course, day, period in per_course_period:
        if (course, day, period) in inst.unavailability:
            s.availability += 1
            s.details.append(f"course {course} at unavailable day {day} period {period}")

    # Soft: room capacity, per lecture.
    for x in valid:
        excess = courses[x.course].students - rooms[x.room].capacity
        if excess > 0:
            s.room_capacity += ROOM_CAPACITY_WEIGHT * excess

    # Soft: minimum working days, per course.
    days_of: dict[str, set[int]] = defaultdict(set)
    for x in valid:
        days_of[x.course].add(x.day)
    for c in inst.courses:
        short = c.min_working_days - len(days_of[c.name])
        if short > 0:
            s.min_working_days += MIN_WORKING_DAYS_WEIGHT * short

    # Soft: curriculum compactness, per isolated lecture of a curriculum.
    for cur in inst.curricula:
        members = set(cur.courses)
        count: Counter[tuple[int, int]] = Counter((x.day, x.period) for x in valid if x.course in members)
        for (day, period), n in count.items():
            if count.get((day, period - 1), 0) == 0 and count.get((day, period + 1), 0) == 0:
                s.curriculum_compactness += CURRICULUM_COMPACTNESS_WEIGHT * n

    # Soft: room stability, distinct rooms per course beyond the first.
    rooms_of: dict[str, set[str]] = defaultdict(set)
    for x in valid:
        rooms_of[x.course].add(x.room)
    for used in rooms_of.values():
        s.room_stability += ROOM_STABILITY_WEIGHT * (len(used) - 1)
    return s
