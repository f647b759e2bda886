"""Reader, writer and the independent scorer of ITC-2007 track 3."""

from __future__ import annotations

from pathlib import Path

import pytest

from scheduler.itc2007 import reader, writer
from scheduler.itc2007.cost import score
from scheduler.itc2007.writer import Lecture
from tests.scheduler.itc2007.itc2007_data import BENCH, TINY, needs_bench

# CI copies shared/ beside the repository: <parent>/shared and <parent>/<repo>.


def tiny() -> reader.Instance:
    return reader.parse(TINY)


def good() -> list[Lecture]:
    return [
        Lecture("c1", "A", 0, 0),
        Lecture("c1", "B", 1, 0),
        Lecture("c2", "A", 0, 1),
        Lecture("c3", "B", 1, 1),
    ]


def test_reader_tiny() -> None:
    inst = tiny()
    assert inst.num_periods == 4
    assert [c.name for c in inst.courses] == ["c1", "c2", "c3"]
    assert inst.rooms[1] == reader.Room("B", 5)
    assert inst.curricula[0].courses == ("c1", "c2")
    assert inst.unavailable[2] == {0}
    assert inst.conflicts[0] == {1, 2}


@needs_bench
@pytest.mark.parametrize("n", range(1, 22))
def test_reader_round_trip_public_instances(n: int) -> None:
    path = BENCH / f"comp{n:02d}.ctt"
    inst = reader.read(path)
    again = reader.parse(reader.to_text(inst))
    assert again == inst
    text = path.read_text()
    assert f"Courses: {len(inst.courses)}" in text
    assert f"Constraints: {len(inst.unavailability)}" in text


def test_writer_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "tiny.sol"
    writer.write(out, good())
    assert out.read_text().splitlines()[0] == "c1 A 0 0"
    assert writer.read(out) == good()


def test_score_known_soft_costs() -> None:
    s = score(tiny(), good())
    assert s.hard == 0, s.details
    # c1 in B: 8 - 5 = 3 students over; q1 at day 1 period 0 is isolated: 2;
    # c1 uses rooms A and B: 1; min working days all met.
    assert (s.room_capacity, s.min_working_days, s.curriculum_compactness, s.room_stability) == (3, 0, 2, 1)
    assert s.soft == 6


def test_score_min_working_days() -> None:
    lectures = [Lecture("c1", "A", 0, 0), Lecture("c1", "A", 0, 1), Lecture("c2", "A", 1, 0)]
    lectures.append(Lecture("c3", "B", 1, 1))
    s = score(tiny(), lectures)
    assert s.hard == 0
    assert s.min_working_days == 5  # c1 on one day, needs two
    assert s.curriculum_compactness == 2  # c2 alone on day 1
    assert s.room_capacity == 0 and s.room_stability == 0


def test_score_detects_missing_and_doubled_lectures() -> None:
    s = score(tiny(), good()[:-1])
    assert s.lectures == 1
    doubled = [*good()[:2], Lecture("c1", "B", 0, 0), Lecture("c2", "A", 0, 1), Lecture("c3", "B", 1, 1)]
    s = score(tiny(), doubled)
    assert s.lectures == 2  # one too many, and two in one period


def test_score_detects_curriculum_and_teacher_conflicts() -> None:
    lectures = [Lecture("c1", "A", 0, 0), Lecture("c1", "A", 1, 0), Lecture("c2", "B", 0, 0)]
    s = score(tiny(), [*lectures, Lecture("c3", "B", 1, 1)])
    assert s.conflicts == 1  # curriculum q1
    s = score(tiny(), [*good()[:3], Lecture("c3", "A", 1, 0)])
    assert s.conflicts == 1 and s.room_occupancy == 0  # teacher t1 (room B vs A)


def test_score_detects_room_occupancy() -> None:
    s = score(tiny(), [*good()[:3], Lecture("c3", "B", 0, 1)])
    assert s.room_occupancy == 0
    s = score(tiny(), [*good()[:3], Lecture("c3", "A", 0, 1)])
    assert s.room_occupancy == 1


def test_score_detects_unavailable_period() -> None:
    s = score(tiny(), [*good()[:3], Lecture("c3", "B", 0, 0)])
    assert s.availability == 1


def test_score_detects_invalid_lines() -> None:
    s = score(tiny(), [*good(), Lecture("nope", "A", 0, 0), Lecture("c1", "A", 7, 0)])
    assert s.invalid == 2
