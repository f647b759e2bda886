"""The CB-CTT solver, checked by the independent scorer."""

from __future__ import annotations

from pathlib import Path

import pytest

from scheduler.itc2007 import reader
from scheduler.itc2007.cli import main
from scheduler.itc2007.cost import score
from scheduler.itc2007.solver import hungarian, solve
from scheduler.itc2007.writer import read as read_solution
from tests.scheduler.itc2007.itc2007_data import BENCH, TINY, needs_bench


def test_hungarian_finds_the_cheapest_assignment() -> None:
    assert hungarian([[4, 1, 3], [2, 0, 5]]) == [1, 0]
    assert hungarian([[1, 2], [1, 9]]) == [1, 0]
    assert hungarian([]) == []


def test_tiny_instance_solved_to_its_optimum() -> None:
    inst = reader.parse(TINY)
    result = solve(inst, time_limit=2.0, seed=1)
    s = score(inst, result.lectures)
    assert result.status == "feasible"
    assert s.hard == 0, s.details
    # c1 and c2 in A at day 0, c1 alone on day 1 (isolated, 2): the optimum is 2.
    assert s.soft == result.cost == 2


def test_infeasible_instance_is_reported() -> None:
    text = TINY.replace("c3 t1 1 1 3", "c3 t1 3 1 3")  # t1 needs 5 periods, only 3 usable ones for c3
    text = text.replace("c1 t1 2 2 8", "c1 t1 3 2 8")
    result = solve(reader.parse(text), time_limit=2.0)
    assert result.status == "infeasible" and result.lectures == []


@needs_bench
def test_comp01_short_solve_has_no_hard_violations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "comp01.sol"
    code = main([str(BENCH / "comp01.ctt"), "--time-limit", "3", "-o", str(out), "--seed", "3"])
    assert code == 0
    inst = reader.read(BENCH / "comp01.ctt")
    s = score(inst, read_solution(out))
    assert s.hard == 0, s.details
    # what it prints is the cost the independent scorer finds; how low that cost gets in a given time
    # is a figure of the benchmark (make bench-itc), not an assertion: under a loaded machine three
    # seconds of wall clock buy less search
    printed = capsys.readouterr().out
    assert "hard violations: 0" in printed and f"soft cost: {s.soft}" in printed


@needs_bench
def test_two_annealing_chains_run_at_once_and_the_best_is_kept(capsys: pytest.CaptureFixture[str]) -> None:
    inst = reader.read(BENCH / "comp01.ctt")
    result = solve(inst, time_limit=14.0, seed=2, chains=2, polish_every=0, verbose=True)
    s = score(inst, result.lectures)
    assert s.hard == 0, s.details
    assert s.soft == result.cost
    line = next(x for x in capsys.readouterr().out.splitlines() if "chains:" in x)
    each = [int(v) for v in line.split("chains:")[1].strip(" )").split()]
    assert len(each) == 2 and result.cost <= min(
        each
    )  # kept the better chain; the LNS after it may improve it
