"""Read and write solutions in the competition format: ``<course> <room> <day> <period>`` a line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Lecture:
    """One scheduled lecture: course ``course`` in room ``room`` on ``day`` at slot ``period``."""

    course: str
    room: str
    day: int
    period: int


def to_text(lectures: list[Lecture]) -> str:
    return "".join(f"{x.course} {x.room} {x.day} {x.period}\n" for x in lectures)


def write(path: str | Path, lectures: list[Lecture]) -> None:
    Path(path).write_text(to_text(lectures), encoding="utf-8")


def parse(text: str) -> list[Lecture]:
    out = []
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 4:
            raise ValueError(f"expected '<course> <room> <day> <period>', got {line!r}")
        out.append(Lecture(parts[0], parts[1], int(parts[2]), int(parts[3])))
    return out


def read(path: str | Path) -> list[Lecture]:
    return parse(Path(path).read_text(encoding="utf-8"))
