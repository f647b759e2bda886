"""Instructor assignment rules on tiny cases, checked by the independent validator."""

from __future__ import annotations

from datetime import date, timedelta

from scheduler.instructors import (
    Instructor,
    InstructorProblem,
    InstructorSolution,
    Teaching,
    _greedy,
    assign_instructors,
    candidates,
)
from scheduler.timetable_validate import validate_instructors

D = date(2026, 5, 11)
PREF = {"tokyo": "東京都", "osaka": "大阪府"}


def teach(
    mid: str, day: date = D, campus: str = "tokyo", subject: str = "finance", half: int = 0
) -> Teaching:
    return Teaching(mid, "s1", campus, subject, day, half)


def person(iid: str, fee: int = 10_000, pref: str = "東京都", max_load: int = 10, **kw: object) -> Instructor:
    days = frozenset(D + timedelta(n) for n in range(-30, 60))
    return Instructor(
        iid,
        kw.get("subjects", frozenset({"finance"})),  # type: ignore[arg-type]
        kw.get("available", days),  # type: ignore[arg-type]
        max_load,
        fee,
        pref,
        kw.get("travel", {}),  # type: ignore[arg-type]
    )


def solve(problem: InstructorProblem) -> tuple[InstructorSolution, dict[str, int]]:
    sol = assign_instructors(problem)
    rep = validate_instructors(problem, sol.assignment)
    assert rep.ok, rep.violations
    assert sum(rep.penalties.values()) == sol.objective
    return sol, rep.penalties


def problem(teachings: list[Teaching], people: list[Instructor], **kw: object) -> InstructorProblem:
    return InstructorProblem(tuple(teachings), tuple(people), PREF, time_limit=5, **kw)  # type: ignore[arg-type]


def test_cheapest_qualified_instructor_is_chosen() -> None:
    people = [
        person("dear", fee=30_000),
        person("cheap"),
        person("wrong", fee=1, subjects=frozenset({"law"})),
    ]
    sol, pen = solve(problem([teach("m1")], people))
    assert sol.assignment == {"m1": "cheap"} and sol.status == "optimal"
    assert pen["cost"] == 10_000


def test_travel_cost_counts() -> None:
    people = [person("far", fee=10_000, travel={"tokyo": 50_000}), person("near", fee=20_000)]
    sol, _ = solve(problem([teach("m1")], people))
    assert sol.assignment == {"m1": "near"}


def test_local_instructor_preferred_at_equal_cost() -> None:
    people = [person("a-osaka", pref="大阪府"), person("b-tokyo")]
    sol, pen = solve(problem([teach("m1")], people))
    assert sol.assignment == {"m1": "b-tokyo"} and pen["non_local"] == 0


def test_nobody_qualified_is_explained() -> None:
    sol, pen = solve(problem([teach("m1", subject="law")], [person("a")]))
    assert sol.assignment == {} and "科目「law」" in sol.unassigned[0].reason
    assert pen["unassigned"] == 10_000_000


def test_unavailable_instructor_refused() -> None:
    sol, _ = solve(problem([teach("m1")], [person("a", available=frozenset())]))
    assert not sol.assignment and "都合" in sol.unassigned[0].reason


def test_no_instructor_in_two_places_at_once() -> None:
    sol, _ = solve(problem([teach("m1"), teach("m2", campus="tokyo")], [person("a")]))
    assert len(sol.assignment) == 1


def test_travel_day_between_campuses() -> None:
    near = [teach("m1"), teach("m2", day=D + timedelta(1), campus="osaka")]
    sol, _ = solve(problem(near, [person("a")]))
    assert len(sol.assignment) == 1  # Tokyo on Monday, Osaka on Tuesday: no travel day
    apart = [teach("m1"), teach("m2", day=D + timedelta(2), campus="osaka")]
    sol, _ = solve(problem(apart, [person("a")]))
    assert len(sol.assignment) == 2
    same = [teach("m1"), teach("m2", day=D + timedelta(1))]
    sol, _ = solve(problem(same, [person("a")]))
    assert len(sol.assignment) == 2  # same campus on consecutive days is fine


def test_max_load_per_month_is_a_hard_limit() -> None:
    ts = [teach(f"m{k}", day=D + timedelta(k)) for k in range(3)]
    sol, _ = solve(problem(ts, [person("a", max_load=2)]))
    assert len(sol.assignment) == 2 and len(sol.unassigned) == 1


def test_load_above_target_is_balanced() -> None:
    ts = [teach(f"m{k}", day=D + timedelta(k)) for k in range(4)]
    people = [person("a"), person("b", fee=10_001)]
    sol, pen = solve(problem(ts, people, target_load_per_month=2))
    assert sorted(sol.assignment.values()) == ["a", "a", "b", "b"] and pen["load_above_target"] == 0
    sol, pen = solve(problem(ts, people, target_load_per_month=8))
    assert sorted(sol.assignment.values()) == ["a"] * 4  # no target exceeded: cheapest takes all


def test_previous_assignment_kept_and_pins_honoured() -> None:
    people = [person("cheap"), person("old", fee=11_000)]
    sol, pen = solve(problem([teach("m1")], people, previous={"m1": "old"}))
    assert sol.assignment == {"m1": "old"} and pen["change"] == 0
    sol, _ = solve(problem([teach("m1")], people, pins={"m1": "old"}))
    assert sol.assignment == {"m1": "old"}
    bad = assign_instructors(problem([teach("m1", subject="law")], people, pins={"m1": "old"}))
    assert bad.status == "infeasible" and "固定" in bad.unassigned[0].reason


def test_candidates_pruned_to_the_k_cheapest() -> None:
    people = [person(f"p{k}", fee=10_000 + k) for k in range(30)]
    p = problem([teach("m1")], people, candidates_per_module=5, previous={"m1": "p29"})
    assert [i.id for i in candidates(p)["m1"]] == ["p0", "p1", "p2", "p3", "p4", "p29"]


def test_greedy_fill_respects_the_hard_rules() -> None:
    ts = [teach("m1"), teach("m2"), teach("m3", day=D + timedelta(1), campus="osaka")]
    p = problem(ts, [person("a"), person("b", fee=20_000)])
    sol = _greedy(p, candidates(p), 0.0)
    assert validate_instructors(p, sol.assignment).ok
    assert sol.assignment == {"m1": "a", "m2": "b"} and sol.status == "greedy"


def test_validator_finds_every_broken_rule() -> None:
    ts = [
        teach("m1"),
        teach("m2"),
        teach("m3", day=D + timedelta(1), campus="osaka"),
        teach("m4", subject="law"),
    ]
    p = problem(ts, [person("a", max_load=2, available=frozenset({D}))], pins={"m1": "x"})
    rules = validate_instructors(p, {"m1": "a", "m2": "a", "m3": "a", "m4": "a", "m5": "a"}).rules()
    for rule in (
        "not_qualified",
        "not_available",
        "instructor_double_booked",
        "no_travel_day",
        "over_max_load",
        "pin_broken",
        "unknown",
    ):
        assert rules[rule] >= 1, rule


def test_load_above_target_counts_half_days_not_modules() -> None:
    ts = [Teaching(f"m{k}", "s1", "tokyo", "finance", D + timedelta(k), 0, half_days=2) for k in range(3)]
    sol, pen = solve(problem(ts, [person("a")], target_load_per_month=4))
    assert len(sol.assignment) == 3
    assert pen["load_above_target"] == 2 * 30_000  # 6 half days, target 4 (3 modules < 4)


def test_ejection_chain_completes_what_the_greedy_fill_leaves() -> None:
    # Cheapest first gives m1 to "a"; m2 can only be taught by "a", so m1 must move to "b".
    ts = [teach("m1"), teach("m2", subject="law")]
    people = [person("a", subjects=frozenset({"finance", "law"})), person("b", fee=20_000)]
    p = problem(ts, people)
    greedy = _greedy(p, candidates(p), 0.0)
    assert validate_instructors(p, greedy.assignment).ok
    assert greedy.assignment == {"m1": "b", "m2": "a"}
    sol, pen = solve(p)
    assert sol.assignment == {"m1": "b", "m2": "a"} and pen["unassigned"] == 0


def test_monthly_load_goes_where_it_saves_most_across_the_month() -> None:
    # "a" may teach once this month. Early in the month a dearer local can stand in; late in the
    # month only a non-local can: the month's model keeps "a" for the late module.
    early, late = teach("early", day=date(2026, 5, 1)), teach("late", day=date(2026, 5, 28), subject="law")
    people = [
        person("a", max_load=1, subjects=frozenset({"finance", "law"})),
        person("e", fee=15_000),
        person("m", pref="大阪府", subjects=frozenset({"law"})),
    ]
    sol, pen = solve(problem([early, late], people))
    assert sol.assignment == {"early": "e", "late": "a"} and pen["non_local"] == 0


def test_travel_day_across_the_end_of_a_month() -> None:
    # Months are solved one after the other; the travel day still holds between them.
    ts = [teach("m1", day=date(2026, 5, 31)), teach("m2", day=date(2026, 6, 1), campus="osaka")]
    sol, _ = solve(problem(ts, [person("a"), person("b", fee=20_000)]))
    assert sol.assignment == {"m1": "a", "m2": "b"}


def test_months_are_reconciled_where_the_earlier_month_should_give_way() -> None:
    # Solved on their own, both months take "a". Keeping May as it is would hand June's module
    # to the dear "c"; giving May's module to "b" (a little dearer, free only in May) is optimal.
    ts = [teach("may", day=date(2026, 5, 31)), teach("june", day=date(2026, 6, 1), campus="osaka")]
    people = [
        person("a", fee=10_000),
        person("b", fee=11_000, available=frozenset({date(2026, 5, 31)})),
        person("c", fee=60_000),
    ]
    sol, pen = solve(problem(ts, people))
    assert sol.assignment == {"may": "b", "june": "a"} and pen["cost"] == 21_000


def test_pins_that_break_the_travel_day_across_months_are_infeasible() -> None:
    ts = [teach("may", day=date(2026, 5, 31)), teach("june", day=date(2026, 6, 1), campus="osaka")]
    sol = assign_instructors(problem(ts, [person("a"), person("b")], pins={"may": "a", "june": "a"}))
    assert sol.status == "infeasible" and sol.assignment == {} and len(sol.unassigned) == 2


def test_lp_candidates_leave_room_for_the_travel_day() -> None:
    # The LP ignores the travel day and gives both modules to "a"; the model it narrows must
    # still offer someone else for one of them.
    ts = [teach("m1"), teach("m2", day=D + timedelta(1), campus="osaka")]
    people = [person("a", fee=0), *(person(f"b{k}", fee=20_000 + k) for k in range(8))]
    sol, pen = solve(problem(ts, people))
    assert len(sol.assignment) == 2 and pen["unassigned"] == 0 and "a" in sol.assignment.values()


def test_too_little_time_still_gives_a_complete_valid_answer() -> None:
    ts = [teach(f"m{k}", day=D + timedelta(k // 2), half=k % 2) for k in range(12)]
    people = [person(f"p{k}", fee=10_000 + k) for k in range(3)]
    p = problem(ts, people)
    sol = assign_instructors(InstructorProblem(p.teachings, p.instructors, PREF, time_limit=0.01))
    rep = validate_instructors(p, sol.assignment)
    assert rep.ok and len(sol.assignment) == 12 and sum(rep.penalties.values()) == sol.objective
