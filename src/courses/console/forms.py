"""The staff console's common rules: field validation with Japanese messages next to each field,
optimistic locking by version number, and campus scoping.

Every console form and API body is checked by ``parse`` against a list of ``FieldSpec``: the HTML
pages and the JSON API share it, so a message is the same wherever it is shown.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from courses.accounts.service import EMAIL_RE, KATAKANA_RE, staff_campus_ids, to_katakana
from courses.core.errors import Conflict, FieldError, Forbidden, InvalidInput
from courses.core.reference import INDUSTRIES, PREFECTURES
from courses.models import Campus, Role, User

SUBJECT_CODES = (
    "strategy",
    "organization",
    "finance",
    "marketing",
    "production",
    "succession",
    "digital",
    "advisory",
    "policy",
)
RANGE_RE = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2})\s*(?:\.\.|〜|～|~|/)\s*(\d{4}-\d{1,2}-\d{1,2})$")
MONTHS_RE = re.compile(r"^(\d{1,2})\s*-\s*(\d{1,2})$")


@dataclass(frozen=True)
class FieldSpec:
    """One input field: its name, Japanese label, kind and bounds.

    Kinds: str, text, kana, email, int, bool, date, choice, prefecture, industry, campus (a campus
    code), subjects (comma-separated category codes), ranges (date ranges, one per line).
    """

    name: str
    label: str
    kind: str = "str"
    required: bool = True
    low: int | None = None
    high: int | None = None
    max_len: int = 200
    choices: tuple[tuple[str, str], ...] = ()
    hint: str = ""
    create_only: bool = False


def _err(spec: FieldSpec, ja: str, en: str, row: int | None = None) -> FieldError:
    return FieldError(spec.name, ja, en, row=row)


def fiscal_year_start(today: date) -> date:
    return date(today.year if today.month >= 4 else today.year - 1, 4, 1)


def date_bounds(today: date) -> tuple[date, date]:
    """The dates the console accepts: from the start of last fiscal year to the end of the fifth
    fiscal year ahead. Planning never looks further, and a date such as 9999-12-31 would make every
    later solve walk (or overflow) day by day to the end of the calendar."""
    fy = fiscal_year_start(today)
    return fy.replace(year=fy.year - 1), date(fy.year + 6, 3, 31)


def out_of_bounds(day: date, today: date) -> str | None:
    """A Japanese message when ``day`` lies outside ``date_bounds``, else None."""
    first, last = date_bounds(today)
    if first <= day <= last:
        return None
    return f"{first.isoformat()}から{last.isoformat()}までの日付にしてください（{day.isoformat()}）。"


def parse_ranges(raw: str, today: date) -> list[tuple[date, date]]:
    """Date ranges, one per line or ';'-separated: 'YYYY-MM-DD..YYYY-MM-DD', 'all' (this fiscal
    year) or fiscal months 'M-M' (e.g. '6-11', or '10-3' running into the next calendar year).
    Raises ValueError with a Japanese message."""
    fy = fiscal_year_start(today)
    out: list[tuple[date, date]] = []
    for part in re.split(r"[;\n；]+", raw.replace("\r", "")):
        part = unicodedata.normalize("NFKC", part).strip()
        if not part:
            continue
        if part.lower() == "all":
            out.append((fy, date(fy.year + 1, 3, 31)))
            continue
        if m := MONTHS_RE.match(part):
            a, b = int(m.group(1)), int(m.group(2))
            if not (1 <= a <= 12 and 1 <= b <= 12):
                raise ValueError(f"「{part}」の月は1〜12で指定してください。")
            start = date(fy.year if a >= 4 else fy.year + 1, a, 1)
            end_month_start = date(fy.year if b >= 4 else fy.year + 1, b, 1)
            end = (end_month_start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
            if end < start:
                raise ValueError(f"「{part}」は年度内（4月〜翌3月）の順で指定してください。")
            out.append((start, end))
            continue
        m = RANGE_RE.match(part)
        if not m:
            raise ValueError(
                f"期間「{part}」が読めません。「2026-06-01..2026-06-05」の形式で、1行に1期間ずつ入力してください。"
            )
        try:
            a_day, b_day = date.fromisoformat(_iso(m.group(1))), date.fromisoformat(_iso(m.group(2)))
        except ValueError:
            raise ValueError(f"期間「{part}」に実在しない日付があります。") from None
        if b_day < a_day:
            raise ValueError(f"期間「{part}」の終了日が開始日より前です。")
        if message := out_of_bounds(a_day, today) or out_of_bounds(b_day, today):
            raise ValueError(f"期間「{part}」: {message}")
        out.append((a_day, b_day))
    out.sort()
    for (_, a_end), (b_start, _) in itertools.pairwise(out):
        if b_start <= a_end:
            raise ValueError(
                f"期間が重なっています（{b_start.isoformat()}）。重ならないように入力してください。"
            )
    return out


def _iso(raw: str) -> str:
    y, m, d = raw.split("-")
    return f"{int(y):04d}-{int(m):02d}-{int(d):02d}"


def format_ranges(ranges: list[tuple[date, date]]) -> str:
    return "\n".join(f"{a.isoformat()}..{b.isoformat()}" for a, b in ranges)


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_value(
    spec: FieldSpec, raw: Any, today: date, row: int | None = None
) -> tuple[Any, FieldError | None]:
    """Check one value; returns (value, None) or (None, error)."""
    label = spec.label
    if spec.kind == "bool":
        if isinstance(raw, bool):
            return raw, None
        text = str(raw or "").strip().lower()
        if text in {"on", "true", "1", "yes", "はい", "○", "有"}:
            return True, None
        if text in {"", "off", "false", "0", "no", "いいえ", "×", "無"}:
            return False, None
        return None, _err(
            spec, f"{label}は true か false で指定してください。", f"{spec.name}: true or false.", row
        )
    if _is_blank(raw):
        if spec.required:
            return None, _err(spec, f"{label}を入力してください。", f"{spec.name} is required.", row)
        return ("" if spec.kind in {"str", "text", "kana", "email", "subjects"} else None), None
    if spec.kind == "int":
        if isinstance(raw, bool):
            raw = "x"
        try:
            value = int(unicodedata.normalize("NFKC", str(raw)).replace(",", "").strip())
        except ValueError:
            return None, _err(
                spec, f"{label}は半角の整数で入力してください。", f"{spec.name}: a whole number.", row
            )
        if (spec.low is not None and value < spec.low) or (spec.high is not None and value > spec.high):
            return None, _err(
                spec,
                f"{label}は{spec.low}以上{spec.high}以下で入力してください。",
                f"{spec.name} must be between {spec.low} and {spec.high}.",
                row,
            )
        return value, None
    if spec.kind == "ranges":
        if isinstance(raw, list):
            raw = "\n".join(
                f"{r.get('start')}..{r.get('end')}" if isinstance(r, dict) else str(r) for r in raw
            )
        try:
            return parse_ranges(str(raw), today), None
        except ValueError as exc:
            return None, _err(spec, f"{label}: {exc}", f"{spec.name}: {exc}", row)
    text = unicodedata.normalize("NFKC", str(raw)).strip() if spec.kind != "text" else str(raw).strip()
    if len(text) > spec.max_len:
        return None, _err(
            spec,
            f"{label}は{spec.max_len}文字以内で入力してください。",
            f"{spec.name}: at most {spec.max_len}.",
            row,
        )
    if spec.kind != "text" and any(unicodedata.category(ch).startswith("C") for ch in text):
        # a line break or other control character in a code or a name would end up in file names,
        # headers and CSV rows; only free text (kind "text") may span lines
        return None, _err(
            spec,
            f"{label}に改行や制御文字は使えません。",
            f"{spec.name}: line breaks and control characters are not allowed.",
            row,
        )
    if spec.kind == "date":
        try:
            day = date.fromisoformat(_iso(text) if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", text) else text)
        except ValueError:
            return None, _err(
                spec,
                f"{label}の日付が正しくありません。YYYY-MM-DD の形式で、実在する日付を入力してください。",
                f"{spec.name}: use YYYY-MM-DD.",
                row,
            )
        if message := out_of_bounds(day, today):
            first, last = date_bounds(today)
            return None, _err(spec, f"{label}は{message}", f"{spec.name}: between {first} and {last}.", row)
        return day, None
    if spec.kind == "choice":
        allowed = [c for c, _ in spec.choices]
        if text not in allowed:
            names = "、".join(f"{c}（{n}）" for c, n in spec.choices)
            return None, _err(
                spec, f"{label}は次から選んでください: {names}", f"{spec.name}: one of {allowed}.", row
            )
        return text, None
    if spec.kind == "prefecture":
        text = (
            text.zfill(2) if text.isdigit() else next((k for k, v in PREFECTURES.items() if v == text), text)
        )
        if text not in PREFECTURES:
            return None, _err(
                spec,
                f"{label}は都道府県コード（01〜47）または都道府県名で入力してください。",
                f"{spec.name}: a JIS prefecture code 01-47.",
                row,
            )
        return text, None
    if spec.kind == "industry":
        text = text.upper()
        if text not in INDUSTRIES:
            return None, _err(
                spec,
                f"{label}は日本標準産業分類の大分類（A〜T の1文字）で入力してください。",
                f"{spec.name}: a JSIC division letter A-T.",
                row,
            )
        return text, None
    if spec.kind == "email":
        text = text.lower()
        if not EMAIL_RE.match(text):
            return None, _err(
                spec, f"{label}の形式が正しくありません。", f"{spec.name}: not an email address.", row
            )
        return text, None
    if spec.kind == "kana":
        text = to_katakana(text)
        if not KATAKANA_RE.match(text):
            return None, _err(
                spec, f"{label}はカタカナで入力してください。", f"{spec.name}: katakana only.", row
            )
        return text, None
    if spec.kind == "subjects":
        codes = [c.strip() for c in re.split(r"[,、\s]+", text) if c.strip()]
        bad = [c for c in codes if c not in SUBJECT_CODES]
        if bad:
            return None, _err(
                spec,
                f"{label}「{bad[0]}」はありません。次のコードをカンマ区切りで: {', '.join(SUBJECT_CODES)}",
                f"{spec.name}: unknown subject '{bad[0]}'.",
                row,
            )
        return ",".join(dict.fromkeys(codes)), None
    return text, None


def parse(
    specs: list[FieldSpec],
    data: Mapping[str, Any],
    today: date,
    *,
    partial: bool = False,
    creating: bool = True,
    row: int | None = None,
) -> tuple[dict[str, Any], list[FieldError]]:
    """Check every field; returns the clean values and every error found (not just the first)."""
    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    for spec in specs:
        if spec.create_only and not creating:
            continue
        if partial and spec.name not in data:
            continue
        value, error = parse_value(spec, data.get(spec.name), today, row)
        if error:
            errors.append(error)
        else:
            values[spec.name] = value
    return values, errors


def refuse(errors: list[FieldError]) -> InvalidInput:
    first = errors[0]
    return InvalidInput(
        "入力内容を確認してください: " + first.message_ja,
        "Check the input: " + first.message_en,
        errors=errors,
    )


def check(specs: list[FieldSpec], data: Mapping[str, Any], today: date, **kw: Any) -> dict[str, Any]:
    values, errors = parse(specs, data, today, **kw)
    if errors:
        raise refuse(errors)
    return values


def version_of(data: Mapping[str, Any]) -> int:
    """The version the client last saw; every edit must send it."""
    raw = data.get("version")
    try:
        return int(str(raw))
    except (TypeError, ValueError):
        raise InvalidInput(
            "version（編集を始めたときの版番号）を指定してください。",
            "Send the version you started editing from.",
            errors=[FieldError("version", "版番号（version）がありません。", "version is required.")],
        ) from None


def stale(what_ja: str) -> Conflict:
    return Conflict(
        f"他の職員が先に{what_ja}を更新しました。画面を読み込み直し、最新の内容を確認してから、もう一度保存してください。",
        "Another member of staff saved this record first; reload it and apply your change again.",
        extra={"reason": "stale-version"},
    )


async def save_versioned(
    s: AsyncSession, model: Any, row: Any, version: int, values: dict[str, Any], what_ja: str
) -> None:
    """UPDATE ... WHERE id = :id AND version = :v, bumping the version; refused if someone saved first."""
    stmt = (
        update(model)
        .where(col(model.id) == row.id, col(model.version) == version)
        .values(**values, version=model.version + 1)
        .returning(model.id)
    )
    if (await s.exec(stmt)).first() is None:
        raise stale(what_ja)
    await s.refresh(row)


def is_admin(user: User) -> bool:
    return user.role == Role.ADMIN


def ensure_admin(user: User) -> None:
    if not is_admin(user):
        raise Forbidden("この操作は管理者のみが行えます。", "Only administrators may do this.")


async def ensure_campus(s: AsyncSession, user: User, campus_id: int) -> None:
    """Staff act only on their campuses; administrators on all."""
    if campus_id not in await staff_campus_ids(s, user):
        raise Forbidden(
            "この大学校（キャンパス）のデータを扱う権限がありません。", "You may not act on this campus."
        )


async def my_campuses(s: AsyncSession, user: User) -> list[Campus]:
    ids = await staff_campus_ids(s, user)
    return list(await s.exec(select(Campus).where(col(Campus.id).in_(ids)).order_by(col(Campus.sort_order))))


async def campus_by_code(s: AsyncSession, code: str, field: str = "campus") -> Campus:
    campus = (await s.exec(select(Campus).where(Campus.code == code))).first()
    if campus is None:
        ja = f"キャンパス「{code}」はありません。"
        raise InvalidInput(
            ja, f"Unknown campus '{code}'.", errors=[FieldError(field, ja, f"Unknown campus {code}")]
        )
    return campus


async def choose_campus(s: AsyncSession, user: User, code: str | None) -> Campus | None:
    """The campus a list is shown for: the one asked for (if the user may see it), else their first."""
    if code:
        campus = await campus_by_code(s, code)
        await ensure_campus(s, user, campus.id or 0)
        return campus
    mine = await my_campuses(s, user)
    return mine[0] if mine else None
