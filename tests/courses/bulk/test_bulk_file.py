"""Reading registration files: each encoding Excel writes, .xlsx, and clear refusals of everything else."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from courses.bulk import files as bulk_file
from courses.bulk.files import FileTooLarge, NotATable, TooManyRows, read_table

HEADER = "開催回コード,氏名,フリガナ,メールアドレス,会社・団体名,業種,従業員数,資本金（円）,宿泊希望"
ROWS = [
    "T-1,山田 太郎,ヤマダ タロウ,taro@example.jp,株式会社山田製作所,E,40,10000000,有",
    "T-1,佐藤 花子,さとう はなこ,hanako@example.jp,佐藤商店,I,5,3000000,",
]


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\r\n".join([header, *rows]) + "\r\n"


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for r in rows:
        sheet.append(r)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _check(table: bulk_file.Table) -> None:
    assert [n for n, _ in table.rows] == [2, 3]  # spreadsheet rows: the header is row 1
    first = table.rows[0][1]
    assert first["name"] == "山田 太郎" and first["email"] == "taro@example.jp"
    assert first["capital_yen"] == "10000000" and first["lodging"] == "有"
    assert table.header("capital_yen") == "資本金（円）"


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp932", "cp932"), ("shift_jis", "cp932")],
)
def test_csv_in_each_encoding_excel_writes(encoding: str, expected: str) -> None:
    table = read_table("list.csv", csv_text(*ROWS).encode(encoding))
    assert table.encoding == expected
    _check(table)


def test_cp932_only_characters_are_read() -> None:
    # ①, 髙 and ～ exist in CP932 (Windows) but not in strict Shift_JIS
    text = csv_text("T-1,髙橋 一郎①,タカハシ イチロウ,t@example.jp,髙橋工業～,E,10,1000,無")
    table = read_table("list.csv", text.encode("cp932"))
    assert table.rows[0][1]["name"].startswith("髙橋")


def test_xlsx_with_numbers_as_numbers() -> None:
    header = HEADER.split(",")
    data = [r.split(",") for r in ROWS]
    data[0][6], data[0][7] = 40, 10000000.0  # Excel stores numbers as numbers
    _check(read_table("list.xlsx", xlsx_bytes([header, *data])))


def test_headers_in_english_or_other_order_and_extra_columns_are_accepted() -> None:
    text = "memo,email,name,name_kana,session code\r\nx,a@example.jp,A B,エー ビー,T-1\r\n"
    table = read_table("list.csv", text.encode())
    assert table.rows[0][1] == {
        "email": "a@example.jp",
        "name": "A B",
        "name_kana": "エー ビー",
        "session_code": "T-1",
    }


def test_blank_rows_keep_spreadsheet_row_numbers() -> None:
    table = read_table("list.csv", csv_text(ROWS[0], ",,,,,,,,", ROWS[1]).encode())
    assert [n for n, _ in table.rows] == [2, 4]


def test_template_reads_back_as_an_empty_table() -> None:
    with pytest.raises(NotATable) as info:
        read_table("template.csv", bulk_file.template_csv())
    assert "データ行がありません" in info.value.detail_ja
    book = load_workbook(io.BytesIO(bulk_file.template_xlsx()))
    assert book.sheetnames == ["申込者一覧", "記入方法"]
    assert [c.value for c in book["申込者一覧"][1]][:4] == [
        "開催回コード",
        "氏名",
        "フリガナ",
        "メールアドレス",
    ]
    assert bulk_file.template_csv().startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "空"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "表として読み込めない"),
        (bytes(range(256)) * 20, "表として読み込めない"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "表として読み込めない"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
        (
            "氏名,メールアドレス\r\n山田,y@example.jp\r\n".encode(),
            "必須の列がありません: 開催回コード、フリガナ",
        ),
        (b"just some words\nin a text file\n", "表として読み込めない"),
    ],
)
def test_files_that_are_not_tables_are_refused_clearly(content: bytes, message: str) -> None:
    with pytest.raises(NotATable) as info:
        read_table("upload.csv", content)
    assert message in info.value.detail_ja
    assert info.value.detail_en


def test_broken_zip_or_other_zip_is_not_a_table() -> None:
    with pytest.raises(NotATable):
        read_table("list.xlsx", b"PK\x03\x04" + b"garbage" * 50)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(NotATable):
        read_table("letter.docx", buf.getvalue())


def test_row_limit_accepts_5000_and_refuses_more() -> None:
    row = ROWS[0]
    table = read_table("big.csv", csv_text(*([row] * 5000)).encode())
    assert len(table.rows) == 5000
    with pytest.raises(TooManyRows, match="5,000"):
        read_table("big.csv", csv_text(*([row] * 5001)).encode())
    sheet = [HEADER.split(",")] + [row.split(",")] * 5001
    with pytest.raises(TooManyRows):
        read_table("big.xlsx", xlsx_bytes(sheet))


def test_size_limit() -> None:
    with pytest.raises(FileTooLarge) as info:
        read_table("huge.csv", b"a" * (bulk_file.MAX_BYTES + 1))
    assert info.value.status == 413 and "5MB" in info.value.detail_ja
