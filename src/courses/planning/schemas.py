"""The planning API's request bodies, and its response bodies: solver runs, plans (with what the
solver explains about them), the rooms and practicum views of a plan, and the campus timetable."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from courses.planning.runner import MAX_TIME_LIMIT_S

Kind = Literal["rooms", "practicum", "timetable"]
RunStatus = Literal["queued", "running", "done", "failed"]
PlanStatus = Literal["optimal", "feasible", "infeasible", "timed_out", "model_invalid"]
# Numbers the solver wrote into a stored JSON payload: an integer stays an integer in the answer.
Number = int | float
Instant = Annotated[
    str, Meta(description="ISO 8601 date and time, as stored", examples=["2026-05-15T10:00:00+09:00"])
]


class SolverRunRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Queue a solver run for one campus over a date range (both days included)."""

    campus: Annotated[str, Meta(title="キャンパス", max_length=40, examples=["tokyo"])]
    date_from: Annotated[date, Meta(title="開始日", examples=["2026-06-01"])] = msgspec.field(name="from")
    date_to: Annotated[date, Meta(title="終了日", examples=["2026-06-30"])] = msgspec.field(name="to")
    kinds: Annotated[
        list[Kind],
        Meta(
            title="計画の種類",
            description="rooms（寮の部屋）、practicum（企業実習）、timetable（時間割と講師）",
            examples=[["rooms", "practicum"]],
        ),
    ] = msgspec.field(default_factory=lambda: ["rooms", "practicum"])
    time_limit_s: Annotated[float, Meta(title="制限時間（秒）", ge=1, le=MAX_TIME_LIMIT_S, examples=[10])] = (
        10.0
    )
    pin_published: Annotated[
        bool, Meta(title="公開済みの割当てを固定", description="公開した計画の割当てを動かさない")
    ] = False


# --- solver runs ------------------------------------------------------------------------------------


class KindProgress(msgspec.Struct):
    """How far the solver has got with one kind of plan (copied from the worker while it runs)."""

    best_objective: Annotated[Number, Meta(title="暫定の評価値")]
    best_bound: Annotated[Number | None, Meta(title="下界", description="null until the solver proves one")]
    elapsed: Annotated[Number, Meta(title="経過秒数")]


class RunProgress(msgspec.Struct, omit_defaults=True):
    """A kind's key appears once its solving has started; ``plans``, ``plan_kinds`` and ``timed_out``
    once the run is done. Empty while queued."""

    rooms: KindProgress | UnsetType = UNSET
    practicum: KindProgress | UnsetType = UNSET
    timetable: KindProgress | UnsetType = UNSET
    plans: Annotated[list[int] | UnsetType, Meta(title="作成された計画のID")] = UNSET
    plan_kinds: Annotated[
        list[Kind] | UnsetType, Meta(title="計画の種類", description="in the order of plans")
    ] = UNSET
    timed_out: Annotated[
        list[Kind] | UnsetType,
        Meta(title="時間切れの種類", description="kinds where someone was left out for want of time"),
    ] = UNSET


class SolverRunOut(msgspec.Struct):
    id: int
    campus_id: int
    kinds: Annotated[list[Kind], Meta(title="計画の種類", examples=[["rooms", "practicum"]])]
    date_from: Annotated[date, Meta(title="開始日")] = msgspec.field(name="from")
    date_to: Annotated[date, Meta(title="終了日")] = msgspec.field(name="to")
    time_limit_s: Annotated[float, Meta(title="制限時間（秒）")]
    pin_published: Annotated[bool, Meta(title="公開済みの割当てを固定")]
    status: Annotated[RunStatus, Meta(title="状態")]
    attempts: Annotated[int, Meta(title="処理を引き受けた回数")]
    progress: RunProgress
    error: Annotated[
        str, Meta(title="エラー", description="why the run failed or was queued again ('' if not)")
    ]
    created_at: Instant
    started_at: Instant | None
    finished_at: Instant | None
    heartbeat_at: Instant | None


# --- plans ------------------------------------------------------------------------------------------


class BreakdownTerm(msgspec.Struct, omit_defaults=True):
    """One rule's part of the objective: ``value`` units times ``weight`` makes ``cost``."""

    value: Number
    weight: Number
    cost: Number
    share: Annotated[
        float | UnsetType, Meta(description="the rule's share of its stage's cost (timetable plans)")
    ] = UNSET


class UnassignedOut(msgspec.Struct, omit_defaults=True, kw_only=True):
    """Someone or something the solver left out, and why. Each kind of plan gives its own keys:
    rooms (learner_id, block, category, code, nights), practicum (learner_id, code), timetable
    (module_id, course_module_id, stage, label); plans saved before ``code`` and ``nights`` existed
    lack them."""

    module_id: Annotated[str | UnsetType, Meta(examples=["12:3"])] = UNSET
    session_id: int
    course_module_id: int | UnsetType = UNSET
    learner_id: Annotated[int | UnsetType, Meta(description="the enrollment")] = UNSET
    block: Annotated[int | UnsetType, Meta(description="the session's block, from 0")] = UNSET
    category: Annotated[str | UnsetType, Meta(examples=["women"])] = UNSET
    stage: Literal["timetable", "instructors"] | UnsetType = UNSET
    label: str | UnsetType = UNSET
    reason: Annotated[str, Meta(title="理由", examples=["6月8日の夜、女性用の空き室がありません"])]
    code: Annotated[
        str | UnsetType,
        Meta(examples=["shortage"], description="shortage, no_suitable_room, capacity, timed_out, …"),
    ] = UNSET
    nights: Annotated[list[date] | UnsetType, Meta(title="空きのない夜")] = UNSET


class ViolationOut(msgspec.Struct, omit_defaults=True, kw_only=True):
    """A rule the independent validator found broken: rooms and practicum plans give ``kind`` and what
    it concerns (null where not concerned), timetable plans ``rule`` and ``stage``."""

    kind: str | UnsetType = UNSET
    rule: str | UnsetType = UNSET
    message: Annotated[str, Meta(title="内容")]
    stage: Literal["timetable", "instructors"] | UnsetType = UNSET
    session_id: int | UnsetType | None = UNSET
    learner_id: int | UnsetType | None = UNSET
    room_id: int | UnsetType | None = UNSET
    site_id: int | UnsetType | None = UNSET
    day: date | UnsetType | None = UNSET


class ValidatorOut(msgspec.Struct):
    ok: Annotated[bool, Meta(title="検証結果", description="true when no rule is broken")]
    violations: list[ViolationOut]


class PlanOut(msgspec.Struct):
    id: int
    run_id: int
    kind: Annotated[Kind, Meta(title="計画の種類")]
    status: Annotated[PlanStatus, Meta(title="解の状態")]
    date_from: date
    date_to: date
    objective: Annotated[float, Meta(title="評価値")]
    best_bound: Annotated[float, Meta(title="下界")]
    gap: float
    moved: Annotated[int, Meta(title="公開中の計画から動く件数")]
    solve_seconds: float
    breakdown: Annotated[dict[str, BreakdownTerm], Meta(title="規則ごとの内訳")]
    unassigned: Annotated[list[UnassignedOut], Meta(title="割り当てられなかったもの")]
    messages: Annotated[list[str], Meta(title="説明")]
    validator: ValidatorOut
    published_at: Instant | None


class AssignmentOut(msgspec.Struct, omit_defaults=True):
    """A learner's room for one block (rooms plans) or practicum site (practicum plans)."""

    enrollment_id: int
    session_id: int
    block: int | UnsetType = UNSET
    room_id: int | UnsetType = UNSET
    room: Annotated[str | UnsetType, Meta(title="部屋番号", examples=["305"])] = UNSET
    site_id: int | UnsetType = UNSET


class PlanDetailOut(PlanOut):
    """A plan with its assignments (none are listed for a timetable plan: see /api/staff/timetable)."""

    assignments: list[AssignmentOut]


class MoveOut(msgspec.Struct):
    """A learner (or, in a timetable plan, a module) placed differently than in the published plan."""

    enrollment_id: Annotated[int, Meta(description="0 for a timetable's module")]
    learner: Annotated[str, Meta(title="受講者（時間割ではモジュール）")]
    session_code: str
    before: Annotated[str, Meta(title="変更前", examples=["301"])]
    after: Annotated[str, Meta(title="変更後", examples=["305"])]


class PlanComparison(msgspec.Struct):
    plan_id: int
    published_plan_id: Annotated[int | None, Meta(description="null when no plan of the kind is published")]
    moves: list[MoveOut]


# --- the rooms view ---------------------------------------------------------------------------------


class OccupantOut(msgspec.Struct):
    enrollment_id: int
    name: Annotated[str, Meta(title="氏名")]
    session_code: str
    course_title: Annotated[str, Meta(title="研修名")]
    changed: Annotated[bool, Meta(title="公開中の計画からの変更")]


class NightOut(msgspec.Struct):
    date: date
    out_of_service: Annotated[bool, Meta(title="使用停止")]
    empty_beds: Annotated[int, Meta(title="空きベッド")]
    occupants: list[OccupantOut]


class RoomNightsOut(msgspec.Struct):
    room_id: int
    room_number: Annotated[str, Meta(title="部屋番号", examples=["305"])]
    floor: int
    zone: Annotated[str, Meta(examples=["women"])]
    kind: Annotated[str, Meta(examples=["single"])]
    accessible: bool
    beds: int
    nights: list[NightOut]


class NightTotal(msgspec.Struct):
    date: date
    occupied_beds: int
    beds: Annotated[int, Meta(description="beds in service that night")]


class RoomOccupancy(msgspec.Struct):
    plan_id: int
    campus_id: int
    published: bool
    compared_with_plan_id: Annotated[int | None, Meta(description="the published plan compared against")]
    date_from: date = msgspec.field(name="from")
    date_to: date = msgspec.field(name="to")
    totals: list[NightTotal]
    rooms: list[RoomNightsOut]


# --- the practicum view -----------------------------------------------------------------------------


class GroupMemberOut(msgspec.Struct):
    enrollment_id: int
    name: Annotated[str, Meta(title="氏名")]
    company: Annotated[str, Meta(title="会社・団体")]
    industry: Annotated[str, Meta(examples=["E"])]
    industry_ja: Annotated[str, Meta(title="業種", examples=["製造業"])]


class PracticumGroupOut(msgspec.Struct):
    session_id: int
    session_code: str
    course_title: Annotated[str, Meta(title="研修名")]
    days: Annotated[list[date], Meta(title="実習日")]
    learners: list[GroupMemberOut]


class SiteDay(msgspec.Struct):
    date: date
    learners: Annotated[int, Meta(description="against the site's capacity_per_day")]


class HostSiteOut(msgspec.Struct):
    site_id: int
    name: Annotated[str, Meta(title="実習先")]
    company_name: Annotated[str, Meta(title="受入企業")]
    industry: str
    address: Annotated[str, Meta(title="所在地")]
    travel_minutes: int
    capacity_per_day: int
    per_day: list[SiteDay]
    groups: list[PracticumGroupOut]


class PracticumSites(msgspec.Struct):
    plan_id: int
    sites: list[HostSiteOut]


# --- the campus timetable ---------------------------------------------------------------------------


class SlotOut(msgspec.Struct):
    """A module in a period and a classroom; the public view names the instructor only."""

    session_id: int
    session_code: str
    course: Annotated[str, Meta(title="研修名")]
    module: Annotated[str, Meta(title="モジュール")]
    kind: Annotated[str, Meta(examples=["lecture"])]
    day: date
    half: Annotated[int, Meta(description="0 morning, 1 afternoon")]
    half_days: Annotated[int, Meta(description="1, or 2 for the whole day")]
    time: Annotated[str, Meta(title="時間帯", examples=["午前"])]
    campus: str
    classroom: Annotated[str, Meta(title="教室")]
    instructor: Annotated[str | None, Meta(title="講師", description="null until assigned")]


class PlanSlotOut(SlotOut):
    classroom_id: int
    instructor_id: int | None
    plan_id: int


class CampusTimetable(msgspec.Struct):
    campus: Annotated[str, Meta(examples=["tokyo"])]
    date_from: date = msgspec.field(name="from")
    date_to: date = msgspec.field(name="to")
    plan_id: Annotated[int | None, Meta(description="the plan previewed; null for the published timetable")]
    modules: list[PlanSlotOut]


class SessionTimetable(msgspec.Struct):
    session_id: int
    published: Annotated[bool, Meta(title="公開済み")]
    modules: list[SlotOut]
