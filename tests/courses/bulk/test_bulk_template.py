"""The registration template: its example session code is a real one, and the .xlsx offers drop-down
lists for 業種, 都道府県 and 宿泊希望 whose every value the upload accepts."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from openpyxl import load_workbook
from sqlmodel import select

from courses.bulk import files as bulk_file
from courses.bulk.rows import industry_code
from courses.core.db import Database
from courses.core.reference import INDUSTRIES, PREFECTURES
from courses.models import CourseSession
from tests.courses import builders as b
from tests.courses.bulk.test_bulk_api import org_world, upload

DOCS = Path(__file__).resolve().parents[3] / "docs" / "bulk-registration.md"
CODE_IN_TEXT = re.compile(r"\d{4}-[A-Z]{3}-[A-Z]{3}\d{2}-\d{2}")


def shape(code: str) -> str:
    """A code's format: every digit 9, every letter A (2026-TOK-ZAI01-01 → 9999-AAA-AAA99-99)."""
    return re.sub(r"[A-Z]", "A", re.sub(r"\d", "9", code))


def _notes_examples() -> list[str]:
    notes = load_workbook(io.BytesIO(bulk_file.template_xlsx()))["記入方法"]
    text = " ".join(str(c.value) for row in notes.iter_rows() for c in row if c.value is not None)
    return re.findall(r"例: ?([0-9A-Z-]+)", text) + [
        str(row[2].value) for row in notes.iter_rows() if row[0].value == "開催回コードの例"
    ]


async def test_the_example_codes_are_seeded_sessions_codes(seeded: Database) -> None:
    async with seeded.read() as s:
        codes = set(await s.exec(select(CourseSession.code)))
    shapes = {shape(c) for c in codes}
    assert shapes == {"9999-AAA-AAA99-99"}  # every seeded session: fiscal year, campus, course, number
    examples = [e for e in _notes_examples() if "-" in e]
    assert examples and set(examples) == {bulk_file.EXAMPLE_CODE}
    for example in examples:
        assert shape(example) in shapes
        assert example in codes  # a session that exists in the seeded catalog
    documented = set(CODE_IN_TEXT.findall(DOCS.read_text(encoding="utf-8")))
    assert documented and documented <= codes


async def test_the_documented_example_file_uploads_cleanly(
    client: AsyncTestClient[Litestar], seeded: Database
) -> None:
    block = DOCS.read_text(encoding="utf-8").split("```csv\n", 1)[1].split("```", 1)[0]
    async with seeded.write() as s:
        org = await b.organization(s)
        coordinator = await b.user(s, role="coordinator", organization_id=org.id)
        token = await b.token(s, coordinator)
    r = await client.post(
        f"/api/organizations/{org.id}/bulk-registrations",
        files={"file": ("example.csv", block.encode(), "text/csv")},
        headers=b.bearer(token),
    )
    assert r.status_code == 200, r.text
    assert r.json()["errors"] == [] and r.json()["summary"]["invited"] == len(block.strip().splitlines()) - 1


def _validations() -> tuple[dict[str, list[str]], dict[str, str]]:
    """The input sheet's list validations: the choices each column offers, and the rows they cover."""
    book = load_workbook(io.BytesIO(bulk_file.template_xlsx()))
    sheet, notes = book["申込者一覧"], book["記入方法"]
    headers = {c.column_letter: c.value for c in sheet[1]}
    choices: dict[str, list[str]] = {}
    ranges: dict[str, str] = {}
    for dv in sheet.data_validations.dataValidation:
        assert dv.type == "list" and dv.allow_blank
        target = str(dv.sqref)
        column = headers[re.match(r"[A-Z]+", target).group(0)]  # type: ignore[union-attr]
        formula = dv.formula1
        match = re.fullmatch(r"'記入方法'!\$([A-Z]+)\$(\d+):\$([A-Z]+)\$(\d+)", formula)
        assert match, formula
        letter, first, _, last = match.groups()
        choices[column] = [str(notes[f"{letter}{n}"].value) for n in range(int(first), int(last) + 1)]
        ranges[column] = target
    return choices, ranges


def test_the_xlsx_template_offers_drop_down_lists() -> None:
    choices, ranges = _validations()
    assert set(choices) == {"業種", "都道府県", "宿泊希望"}
    assert [c.split(" ")[0] for c in choices["業種"]] == list("ABCDEFGHIJKLMNOPQRST")
    assert choices["業種"][4] == "E 製造業" and len(choices["業種"]) == len(INDUSTRIES)
    assert choices["都道府県"] == list(PREFECTURES.values()) and len(choices["都道府県"]) == 47
    assert choices["宿泊希望"] == ["有", "無"]
    for column, target in ranges.items():
        assert target.endswith(f"2:{target[0]}{bulk_file.TEMPLATE_ROWS + 1}"), (column, target)
    # the template still has its two sheets and reads back as an empty table
    book = load_workbook(io.BytesIO(bulk_file.template_xlsx()))
    assert book.sheetnames == ["申込者一覧", "記入方法"]
    with pytest.raises(bulk_file.NotATable):
        bulk_file.read_table("t.xlsx", bulk_file.template_xlsx())


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("E", "E"),
        ("e", "E"),
        ("製造業", "E"),
        ("E 製造業", "E"),
        ("E：製造業", "E"),
        ("農業，林業", "A"),  # NFKC turns ， into , when the cell is read: the name still matches
        ("A 農業,林業", "A"),
        ("R サービス業（他に分類されないもの）", "R"),
        ("E 卸売業，小売業", None),  # letter and name disagree
        ("Z", None),
        ("製造", None),
    ],
)
def test_industry_is_read_from_its_letter_its_name_or_both(raw: str, code: str | None) -> None:
    import unicodedata

    assert industry_code(unicodedata.normalize("NFKC", raw)) == code


async def test_a_file_using_every_drop_down_value_uploads_cleanly(
    client: AsyncTestClient[Litestar], db: Database
) -> None:
    w = await org_world(db, members=0)
    choices, _ = _validations()
    book = load_workbook(io.BytesIO(bulk_file.template_xlsx()))
    sheet = book["申込者一覧"]
    letters = {c.value: c.column_letter for c in sheet[1]}
    for i, prefecture in enumerate(choices["都道府県"]):
        industry = choices["業種"][i % len(choices["業種"])]
        row = i + 2
        # 公務 (S) is never an SME: that person goes to the support-staff course
        values = {
            "開催回コード": w.support if industry.startswith("S ") else w.sme,
            "氏名": f"山田 太郎{i}",
            "フリガナ": "ヤマダ タロウ",
            "メールアドレス": f"q{i}@example.jp",
            "会社・団体名": "株式会社山田製作所",
            "業種": industry,
            "従業員数": 5,
            "資本金（円）": 1000000,
            "都道府県": prefecture,
            "宿泊希望": choices["宿泊希望"][i % 2],
        }
        for header, value in values.items():
            sheet[f"{letters[header]}{row}"] = value
    buf = io.BytesIO()
    book.save(buf)
    content = buf.getvalue()
    r = await upload(client, w, content, filename="list.xlsx")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["errors"] == [] and body["summary"]["invited"] == 47
    assert [x["lodging"] for x in body["rows"][:2]] == [True, False]
    done = await upload(client, w, content, filename="list.xlsx", dry_run=False)
    assert done.status_code == 201, done.text
    assert done.json()["summary"]["invited"] == 47
