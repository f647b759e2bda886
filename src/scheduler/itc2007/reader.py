"""Read an ITC-2007 ``.ctt`` instance into plain dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path


@dataclass(frozen=True)
class Course:
    """A course: ``lectures`` lectures taught by ``teacher`` to ``students`` students."""

    name: str
    teacher: str
    lectures: int
    min_working_days: int
    students: int


@dataclass(frozen=True)
class Room:
    name: str
    capacity: int


@dataclass(frozen=True)
class Curriculum:
    """Courses one cohort takes together: none of them may share a period."""

    name: str
    courses: tuple[str, ...]


@dataclass(frozen=True)
class Instance:
    """One CB-CTT instance. Periods are numbered ``day * periods_per_day + slot``."""

    name: str
    days: int
    periods_per_day: int
    courses: tuple[Course, ...]
    rooms: tuple[Room, ...]
    curricula: tuple[Curriculum, ...]
    unavailability: frozenset[tuple[str, int, int]] = field(default_factory=frozenset)

    @property
    def num_periods(self) -> int:
        return self.days * self.periods_per_day

    @cached_property
    def course_index(self) -> dict[str, int]:
        return {c.name: i for i, c in enumerate(self.courses)}

    @cached_property
    def room_index(self) -> dict[str, int]:
        return {r.name: i for i, r in enumerate(self.rooms)}

    @cached_property
    def unavailable(self) -> list[set[int]]:
        """Unavailable periods per course index."""
        out: list[set[int]] = [set() for _ in self.courses]
        for name, day, slot in self.unavailability:
            out[self.course_index[name]].add(day * self.periods_per_day + slot)
        return out

    @cached_property
    def curricula_of(self) -> list[list[int]]:
        """Curriculum indices per course index."""
        out: list[list[int]] = [[] for _ in self.courses]
        for q, cur in enumerate(self.curricula):
            for name in cur.courses:
                out[self.course_index[name]].append(q)
        return out

    @cached_property
    def conflicts(self) -> list[set[int]]:
        """Per course index, the other courses it may not share a period with (teacher or curriculum)."""
        out: list[set[int]] = [set() for _ in self.courses]
        groups: list[list[int]] = [[self.course_index[n] for n in cur.courses] for cur in self.curricula]
        by_teacher: dict[str, list[int]] = {}
        for i, c in enumerate(self.courses):
            by_teacher.setdefault(c.teacher, []).append(i)
        groups.extend(by_teacher.values())
        for g in groups:
            for a in g:
                out[a].update(b for b in g if b != a)
        return out


def parse(text: str) -> Instance:
    """Parse the text of a ``.ctt`` file."""
    header: dict[str, str] = {}
    courses: list[Course] = []
    rooms: list[Room] = []
    curricula: list[Curriculum] = []
    unavailability: set[tuple[str, int, int]] = set()
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line == "END.":
            break
        if line.endswith(":") and " " not in line:
            section = line[:-1].upper()
            continue
        if not section:
            key, _, value = line.partition(":")
            header[key.strip()] = value.strip()
            continue
        parts = line.split()
        if section == "COURSES":
            name, teacher, lectures, mwd, students = parts
            courses.append(Course(name, teacher, int(lectures), int(mwd), int(students)))
        elif section == "ROOMS":
            rooms.append(Room(parts[0], int(parts[1])))
        elif section == "CURRICULA":
            n = int(parts[1])
            curricula.append(Curriculum(parts[0], tuple(parts[2 : 2 + n])))
        elif section == "UNAVAILABILITY_CONSTRAINTS":
            unavailability.add((parts[0], int(parts[1]), int(parts[2])))
        else:
            raise ValueError(f"unknown section {section!r}")
    inst = Instance(
        name=header.get("Name", ""),
        days=int(header["Days"]),
        periods_per_day=int(header["Periods_per_day"]),
        courses=tuple(courses),
        rooms=tuple(rooms),
        curricula=tuple(curricula),
        unavailability=frozenset(unavailability),
    )
    for key, got in (("Courses", len(courses)), ("Rooms", len(rooms)), ("Curricula", len(curricula))):
        if key in header and int(header[key]) != got:
            raise ValueError(f"header says {key}: {header[key]} but {got} were listed")
    return inst


def read(path: str | Path) -> Instance:
    """Read a ``.ctt`` file."""
    return parse(Path(path).read_text(encoding="utf-8"))


def to_text(inst: Instance) -> str:
    """Write an instance back in ``.ctt`` format (used to check the reader by round trip)."""
    lines = [
        f"Name: {inst.name}",
        f"Courses: {len(inst.courses)}",
        f"Rooms: {len(inst.rooms)}",
        f"Days: {inst.days}",
        f"Periods_per_day: {inst.periods_per_day}",
        f"Curricula: {len(inst.curricula)}",
        f"Constraints: {len(inst.unavailability)}",
        "",
        "COURSES:",
    ]
    lines += [f"{c.name} {c.teacher} {c.lectures} {c.min_working_days} {c.students}" for c in inst.courses]
    lines += ["", "ROOMS:"] + [f"{r.name} {r.capacity}" for r in inst.rooms]
    lines += ["", "CURRICULA:"]
    lines += [f"{q.name} {len(q.courses)} {' '.join(q.courses)}" for q in inst.curricula]
    lines += ["", "UNAVAILABILITY_CONSTRAINTS:"]
    lines += [f"{c} {d} {p}" for c, d, p in sorted(inst.unavailability)]
    lines += ["", "END.", ""]
    return "\n".join(lines)
