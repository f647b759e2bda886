"""The bulk registration API's request body (a multipart form, since it carries a file) and its
response bodies: the report of a file, the uploads, registrants, invitations and the bill."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal

import msgspec
from litestar.datastructures import UploadFile
from msgspec import UNSET, Meta, UnsetType

from courses.learners.schemas import State


@dataclass
class BulkUpload:
    """A registration file and what to do with it.

    - ``file``: CSV in UTF-8 or Shift_JIS, or .xlsx, with the template's Japanese headers;
    - ``mode``: ``all_or_nothing`` (the default: one bad row stops the file) or ``accept_valid``;
    - ``dry_run``: true (the default) validates and predicts, writing nothing;
    - ``consent``: true when the organisation has the people's consent to pass their data on
      (required to commit).
    """

    file: UploadFile | None = None
    mode: Literal["all_or_nothing", "accept_valid"] | None = None
    dry_run: bool = True
    consent: bool = False


# --- response bodies ---------------------------------------------------------------------------------

Mode = Literal["all_or_nothing", "accept_valid"]
Outcome = Literal["confirmed", "waitlisted", "invited", "already_registered", "error"]
Audience = Literal["sme", "support"]
InvitationState = Literal["pending", "declined", "closed", "expired"]
Moment = Annotated[str, Meta(description="ISO 8601 date and time", examples=["2026-05-15T01:30:00+00:00"])]
Email = Annotated[str, Meta(title="メールアドレス", examples=["yamada@example.jp"])]
Name = Annotated[
    str, Meta(title="氏名", description="as the organisation's file gave it", examples=["山田 太郎"])
]
SessionCode = Annotated[str, Meta(title="開催回コード", examples=["2026-TOK-ZAI01-01"])]
CourseTitle = Annotated[str, Meta(title="研修名", examples=["財務諸表の読み方"])]


class RowError(msgspec.Struct, omit_defaults=True):
    """One error of the file: the column (or field) and what is wrong with it, in the caller's language."""

    field: Annotated[str, Meta(title="列", examples=["メールアドレス"])]
    message: Annotated[str, Meta(title="エラー内容", examples=["メールアドレスの形式が正しくありません。"])]
    row: Annotated[int, Meta(title="行番号", description="the spreadsheet's row number")] | UnsetType = UNSET


class BulkRow(msgspec.Struct):
    """One row of the file and what registering it does (a preview) or did."""

    row: Annotated[
        int, Meta(title="行番号", description="the spreadsheet's row number (the header is row 1)")
    ]
    email: Email
    name: Name
    session_code: SessionCode
    lodging: Annotated[bool, Meta(title="宿泊希望")]
    status: Annotated[
        Outcome,
        Meta(
            title="結果",
            description="confirmed（受講決定）、waitlisted（キャンセル待ち）、invited（招待：本人の承諾後に登録）、"
            "already_registered（登録済みのためスキップ）、error（エラー）",
        ),
    ]
    waitlist_position: Annotated[int | None, Meta(title="キャンセル待ちの順番")]
    enrollment_id: Annotated[int | None, Meta(description="the registration, once written")]
    errors: Annotated[list[RowError], Meta(title="この行のエラー")]


class BulkSummary(msgspec.Struct):
    """How many rows have each outcome."""

    confirmed: Annotated[int, Meta(title="受講決定")]
    waitlisted: Annotated[int, Meta(title="キャンセル待ち")]
    invited: Annotated[int, Meta(title="招待")]
    already_registered: Annotated[int, Meta(title="登録済み（スキップ）")]
    error: Annotated[int, Meta(title="エラー")]


class BulkReport(msgspec.Struct):
    """A preview (``dry_run``: nothing written) or the report of a registered file."""

    dry_run: Annotated[bool, Meta(title="確認のみ")]
    committed: Annotated[bool, Meta(title="登録済み", description="true once the rows were written")]
    batch_id: Annotated[int | None, Meta(title="取込番号", description="null for a preview")]
    mode: Annotated[Mode, Meta(title="取込方法")]
    filename: Annotated[str, Meta(title="ファイル名", examples=["申込.xlsx"])]
    rows_total: Annotated[int, Meta(title="行数")]
    summary: Annotated[BulkSummary, Meta(title="結果の内訳")]
    can_commit: Annotated[bool, Meta(title="登録できるか")]
    rows: Annotated[list[BulkRow], Meta(title="行ごとの結果")]
    errors: Annotated[
        list[RowError], Meta(title="すべてのエラー", description="every row's errors, in row order")
    ]


class BatchOut(msgspec.Struct):
    """One registered (confirmed) upload."""

    id: int
    filename: Annotated[str, Meta(title="ファイル名", examples=["申込.xlsx"])]
    mode: Annotated[Mode, Meta(title="取込方法")]
    rows_total: Annotated[int, Meta(title="行数")]
    confirmed: Annotated[int, Meta(title="受講決定")]
    waitlisted: Annotated[int, Meta(title="キャンセル待ち")]
    already_registered: Annotated[int, Meta(title="登録済み（スキップ）")]
    rejected: Annotated[int, Meta(title="エラー", description="rows left out (accept_valid mode)")]
    invited: Annotated[int, Meta(title="招待")]
    consent_confirmed: Annotated[bool, Meta(title="個人情報提供の同意を確認")]
    consent_at: Moment
    created_at: Moment


class OpenSessionOut(msgspec.Struct):
    """A session open for applications today, with the code a registration file names it by."""

    id: int
    code: SessionCode
    course_code: Annotated[str, Meta(examples=["ZAI01"])]
    course_title: CourseTitle
    audience: Annotated[Audience, Meta(description="sme（中小企業の方）、support（支援機関の方）")]
    campus: Annotated[str, Meta(examples=["tokyo"])]
    campus_name: Annotated[str, Meta(title="キャンパス名", examples=["中小企業大学校 東京校"])]
    start_date: date
    end_date: date
    application_closes: Annotated[date, Meta(title="申込締切")]
    capacity: Annotated[int, Meta(title="定員")]
    seats_left: Annotated[int, Meta(title="残席")]
    lodging: Annotated[bool, Meta(title="宿泊あり")]


class RegisteredSession(msgspec.Struct):
    id: int
    code: SessionCode
    course_title: CourseTitle
    campus: Annotated[str, Meta(examples=["tokyo"])]
    start_date: date
    end_date: date


class RegistrantOut(msgspec.Struct):
    """Someone the organisation registered, with where they stand."""

    id: Annotated[int, Meta(description="the enrollment")]
    batch_id: Annotated[int | None, Meta(title="取込番号", description="null when not registered by a file")]
    status: State
    waitlist_position: Annotated[int | None, Meta(title="キャンセル待ちの順番")]
    lodging: Annotated[bool, Meta(title="宿泊希望")]
    name: Name
    email: Email
    session: RegisteredSession
    created_at: Moment


class InvitedSession(msgspec.Struct):
    id: int
    code: SessionCode
    course_title: CourseTitle
    start_date: date
    end_date: date


class InvitationOut(msgspec.Struct):
    """An invitation not (yet) turned into a registration, as the file named the person."""

    id: int
    batch_id: Annotated[int, Meta(title="取込番号")]
    row: Annotated[int, Meta(title="行番号")]
    status: Annotated[
        InvitationState,
        Meta(
            title="状況",
            description="pending（本人の承諾待ち）、declined（辞退）、closed（登録に至らず）、expired（期限切れ）",
        ),
    ]
    name: Name
    email: Email
    lodging: Annotated[bool, Meta(title="宿泊希望")]
    session: InvitedSession
    sent_at: Moment
    expires_at: Moment


class BillLine(msgspec.Struct):
    """Fees and lodging nights of one session."""

    session_code: SessionCode
    course_title: CourseTitle
    start_date: date
    fee_yen: Annotated[int, Meta(title="受講料（1人）", description="tax included")]
    confirmed: Annotated[int, Meta(title="受講決定者数")]
    fees_yen: Annotated[int, Meta(title="受講料（計）")]
    lodging_people: Annotated[int, Meta(title="宿泊者数")]
    nights_per_person: Annotated[int, Meta(title="1人あたり泊数")]
    lodging_nights: Annotated[int, Meta(title="延べ泊数")]


class BillTotal(msgspec.Struct):
    confirmed: Annotated[int, Meta(title="受講決定者数")]
    fees_yen: Annotated[int, Meta(title="受講料（計）")]
    lodging_nights: Annotated[int, Meta(title="延べ泊数")]


class Bill(msgspec.Struct):
    """What the organisation owes for its confirmed registrants, per session and in total."""

    sessions: list[BillLine]
    total: BillTotal
