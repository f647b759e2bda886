"""The solve command: a round trip through files, and clear refusals of bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scheduler.cli_solve import main
from scheduler.io import load_problem, problem_to_dict
from scheduler.practicum import PracticumProblem
from scheduler.rooms import RoomsProblem
from scheduler.validate import validate_rooms

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "rooms-problem.json"


def test_example_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "solution.json"
    assert main([str(EXAMPLE), "-o", str(out), "--time-limit", "5", "--workers", "1"]) == 0
    solution = json.loads(out.read_text(encoding="utf-8"))["rooms"]
    assert solution["status"] == "optimal"
    assert solution["validation"] == {"ok": True, "violations": []}
    assert solution["breakdown"]["unhoused"] == {"value": 1, "weight": 1000, "cost": 1000}
    assert "6月10日の夜、女性用の空き室が1室不足" in capsys.readouterr().out
    assert {(a["session_id"], a["learner_id"], a["room_id"]) for a in solution["assignments"]} >= {
        (102, 4, 2)
    }


def test_written_problem_reads_back_the_same(tmp_path: Path) -> None:
    problem = load_problem(EXAMPLE)
    assert isinstance(problem.rooms, RoomsProblem)
    path = tmp_path / "again.json"
    path.write_text(json.dumps({"rooms": problem_to_dict(problem.rooms)}), encoding="utf-8")
    assert load_problem(path).rooms == problem.rooms


def test_practicum_section_is_solved_and_validated(tmp_path: Path) -> None:
    days = ["2025-07-01", "2025-07-02"]
    data = {
        "practicum": {
            "sites": [
                {
                    "site_id": 1,
                    "campus_id": 1,
                    "name": "甲製作所",
                    "company": "甲製作所",
                    "industry": "E",
                    "travel_minutes": 30,
                    "capacity_per_day": 6,
                    "available_days": days,
                }
            ],
            "sessions": [
                {"session_id": 7, "campus_id": 1, "days": days, "min_group_size": 2, "max_group_size": 6}
            ],
            "learners": [
                {"learner_id": i, "session_id": 7, "company": f"社{i}", "industry": "E", "competitors": []}
                for i in range(1, 5)
            ],
        }
    }
    problem_path, out = tmp_path / "p.json", tmp_path / "s.json"
    problem_path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert isinstance(load_problem(problem_path).practicum, PracticumProblem)
    assert main([str(problem_path), "-o", str(out)]) == 0
    solution = json.loads(out.read_text(encoding="utf-8"))["practicum"]
    assert solution["validation"]["ok"] and len(solution["placements"]) == 4
    assert solution["groups"] == [{"session_id": 7, "site_id": 1, "learner_ids": [1, 2, 3, 4]}]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"rooms": {"rooms": [', "not valid JSON: line 1"),
        ("[1, 2]", "must be a JSON object"),
        (
            '{"rooms": {"rooms": [{"room_id": "a"}], "sessions": [], "lodgers": []}}',
            "room_id: must be an integer",
        ),
        (
            '{"rooms": {"rooms": [], "sessions": [], "lodgers": [{"learner_id": 1, "session_id": 9}]}}',
            "unknown session 9",
        ),
        (
            '{"rooms": {"rooms": [], "sessions": [{"session_id": 1, "campus_id": 1, "blocks": [{"first_day": "June"}]}], '
            '"lodgers": []}}',
            "must be a date",
        ),
        ('{"timetable": {}}', "neither"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    path, out = tmp_path / "bad.json", tmp_path / "out.json"
    path.write_text(text, encoding="utf-8")
    assert main([str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    assert not out.exists()


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "nope.json"), "-o", str(tmp_path / "o.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_example_solution_passes_the_validator_directly() -> None:
    from scheduler.rooms import solve_rooms

    problem = load_problem(EXAMPLE).rooms
    assert problem is not None
    assert validate_rooms(problem, solve_rooms(problem, time_limit=5)) == []


def test_a_file_that_is_not_utf8_exits_2_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "cp932.json"
    path.write_bytes('{"comment": "東京校の部屋割り", "rooms": {}}'.encode("cp932"))
    done = subprocess.run(
        [sys.executable, "-m", "scheduler", "solve", str(path), "-o", str(tmp_path / "out.json")],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")},
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "not UTF-8" in done.stderr and "Traceback" not in done.stderr


def test_a_flood_of_input_errors_prints_the_first_50_and_a_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lodgers = [{"learner_id": i, "session_id": 9} for i in range(120)]
    path = tmp_path / "flood.json"
    path.write_text(
        json.dumps({"rooms": {"rooms": [], "sessions": [], "lodgers": lodgers}}), encoding="utf-8"
    )
    assert main([str(path), "-o", str(tmp_path / "out.json")]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert "(120 problems)" in lines[0]
    assert sum(line.startswith("  - ") for line in lines) == 50
    assert lines[-1] == "  ... and 70 more"


def test_a_pin_on_a_block_without_a_night_is_an_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    problem = {
        "rooms": {
            "rooms": [{"room_id": 1, "campus_id": 1, "label": "101"}],
            "sessions": [
                {
                    "session_id": 1,
                    "campus_id": 1,
                    "blocks": [
                        {"first_day": "2025-06-09", "last_day": "2025-06-11"},
                        {"first_day": "2025-06-20", "last_day": "2025-06-20"},
                    ],
                }
            ],
            "lodgers": [{"learner_id": 1, "session_id": 1, "gender": "male"}],
            "pins": [{"session_id": 1, "learner_id": 1, "block": 1, "room_id": 1}],
        }
    }
    path = tmp_path / "pin.json"
    path.write_text(json.dumps(problem), encoding="utf-8")
    assert main([str(path), "-o", str(tmp_path / "out.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: pin of learner 1 (session 1, block 1): the block has no night")
