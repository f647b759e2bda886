"""The CP-SAT model of one part, one method per rule."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import TYPE_CHECKING, Any

from scheduler.practicum.parts import _Part
from scheduler.practicum.types import PracticumProblem, balanced_size

if TYPE_CHECKING:
    from ortools.sat.python import cp_model


class _PartModel:
    """Counts y[type, site] of learners sent, and a switch per session x site saying a group goes there."""

    def __init__(self, part: _Part, problem: PracticumProblem) -> None:
        from ortools.sat.python import cp_model

        self.part = part
        self.weights = problem.weights
        self.sites = {s.site_id: s for s in problem.sites}
        self.sessions = {s.session_id: s for s in problem.sessions}
        self.model = cp_model.CpModel()
        self.named: dict[str, Any] = {}
        self.y: dict[tuple[int, int], cp_model.IntVar] = {}
        self.used: dict[tuple[int, int], cp_model.IntVar] = {}
        self.size: dict[tuple[int, int], Any] = {}
        self.terms: list[Any] = []
        self.constant = 0

    def var(self, name: str, upper: int) -> cp_model.IntVar:
        variable = self.model.new_int_var(0, upper, name)
        self.named[name] = variable
        return variable

    def build(self) -> None:
        self.groups_at_sites()
        self.group_size_limits()
        self.site_capacity_per_day()
        self.unplaced_learners()
        self.industry_match_and_travel()
        self.fewer_groups()
        self.balanced_groups()
        self.minimal_change()
        self.model.minimize(sum(self.terms) + self.constant)

    def groups_at_sites(self) -> None:
        """Learners go only to sites allowed for them; each count is tied to its own session x site switch,
        which keeps the LP relaxation tight."""
        for t, kind in enumerate(self.part.types):
            session = self.sessions[kind.session_id]
            for site_id in kind.sites:
                upper = min(len(kind.members), session.max_group_size)
                count = self.var(f"sent[type={kind.key},site={site_id}]", upper)
                self.y[(t, site_id)] = count
                key = (kind.session_id, site_id)
                if key not in self.used:
                    self.used[key] = self.var(f"group[session={kind.session_id},site={site_id}]", 1)
                self.model.add(count <= upper * self.used[key])
            if kind.pinned_site is not None:
                self.model.add(self.y[(t, kind.pinned_site)] == len(kind.members))

    def group_size_limits(self) -> None:
        """A group holds between the course's minimum and maximum number of learners."""
        members: dict[tuple[int, int], list[Any]] = defaultdict(list)
        for (t, site_id), count in self.y.items():
            members[(self.part.types[t].session_id, site_id)].append(count)
        for key, counts in members.items():
            session = self.sessions[key[0]]
            size = sum(counts)
            self.size[key] = size
            self.model.add(size >= session.min_group_size * self.used[key])
            self.model.add(size <= session.max_group_size * self.used[key])

    def site_capacity_per_day(self) -> None:
        """A site hosts no more learners on a day than its capacity for that day."""
        per_day: dict[tuple[int, date], list[Any]] = defaultdict(list)
        uppers: dict[tuple[int, date], int] = defaultdict(int)
        for (sid, site_id), size in self.size.items():
            for day in set(self.sessions[sid].days):
                per_day[(site_id, day)].append(size)
                uppers[(site_id, day)] += self.sessions[sid].max_group_size
        for (site_id, day), sizes in per_day.items():
            if uppers[(site_id, day)] > self.sites[site_id].capacity_per_day:
                self.model.add(sum(sizes) <= self.sites[site_id].capacity_per_day)

    def unplaced_learners(self) -> None:
        """Every learner should get a site; each one left without is penalised heavily."""
        for t, kind in enumerate(self.part.types):
            counts = [self.y[(t, site_id)] for site_id in kind.sites]
            unplaced = self.var(f"unplaced[type={kind.key}]", len(kind.members))
            self.model.add(sum(counts) + unplaced == len(kind.members))
            self.terms.append(self.weights.unplaced * unplaced)

    def industry_match_and_travel(self) -> None:
        """Prefer a host of the learner's own industry and a short trip from the campus."""
        for (t, site_id), count in self.y.items():
            site = self.sites[site_id]
            mismatch = self.part.types[t].industry != site.industry
            cost = (
                self.weights.travel_minutes * site.travel_minutes + self.weights.industry_mismatch * mismatch
            )
            if cost:
                self.terms.append(cost * count)

    def fewer_groups(self) -> None:
        """Each group needs a host and an accompanying instructor, so each one opened costs a little."""
        for used in self.used.values():
            self.terms.append(self.weights.group_opened * used)

    def balanced_groups(self) -> None:
        """Groups of a session are balanced: each learner above the balanced size of a group is penalised."""
        totals: dict[int, int] = defaultdict(int)
        for kind in self.part.types:
            totals[kind.session_id] += len(kind.members)
        for (sid, site_id), size in self.size.items():
            session = self.sessions[sid]
            target = balanced_size(totals[sid], session)
            if target >= session.max_group_size:
                continue
            above = self.var(f"above_balanced[session={sid},site={site_id}]", session.max_group_size - target)
            self.model.add(above >= size - target)
            self.terms.append(self.weights.group_above_balanced_size * above)

    def minimal_change(self) -> None:
        """A re-solve keeps each learner at their previous site; each learner moved is penalised."""
        for t, kind in enumerate(self.part.types):
            if not kind.previous_count:
                continue
            if kind.previous_site is None:
                self.constant += self.weights.moved * kind.previous_count
            else:
                self.terms.append(
                    self.weights.moved * (kind.previous_count - self.y[(t, kind.previous_site)])
                )
