"""Reading an organisation's registration spreadsheet: CSV (UTF-8 with or without BOM, or Shift_JIS/CP932
as Excel saves it) or ``.xlsx``, into rows keyed by column, numbered as the spreadsheet numbers them.

Nothing here touches the database: the file is read (and refused, with a reason) before any
transaction opens. Row numbers are spreadsheet rows: the header is row 1, so the first person is row 2.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from courses.core import tabular
from courses.core.errors import DomainError, FieldError, InvalidInput
from courses.core.reference import INDUSTRIES, PREFECTURES

MAX_BYTES = 5 * 1024 * 1024  # 5 MB: a 5,000-row CSV with every column filled is about 1.5 MB
MAX_ROWS = 5_000  # data rows (the header row not counted)
# Hard limits on what a file may make the server read, whatever its size on the wire: a 1 MB .xlsx
# can hold a gigabyte of XML. Blank rows count towards MAX_SCANNED_ROWS only.
MAX_SCANNED_ROWS = 50_000  # rows read in all, blank ones included
MAX_COLUMNS = 60  # cells of a row that are read; a CSV row with more is refused
MAX_XLSX_CELLS = 400_000  # <c> elements in the first sheet
MAX_XLSX_UNPACKED = 40 * 1024 * 1024  # all members of the .xlsx, uncompressed
MAX_SHEET_XML = 24 * 1024 * 1024  # the first sheet, uncompressed
MAX_SHARED_STRINGS = 8 * 1024 * 1024  # sharedStrings.xml, uncompressed (openpyxl loads it whole)
MAX_XLSX_MEMBERS = 500

# A session code as the catalog shows it: fiscal year, campus, course, number (see seeds/sessions.csv
# and courses.console.sessions, which make them the same way). The example is a seeded session.
EXAMPLE_CODE = "2026-TOK-ZAI01-01"


@dataclass(frozen=True)
class Column:
    """A column of the registration file: its key, its header in the template, and other spellings."""

    key: str
    header: str
    aliases: tuple[str, ...] = ()
    required: bool = False  # the header must be present (the cell may still be optional per row)
    note: str = ""


COLUMNS: tuple[Column, ...] = (
    Column("session_code", "開催回コード", ("session code", "session_code", "開催回", "研修コード"), True,
           "研修一覧・団体申込ページに表示される開催回のコード。年度-校-研修-番号の形"
           f"（例: {EXAMPLE_CODE}）。同じ開催回に何人でも、1人1行で"),
    Column("name", "氏名", ("name", "お名前", "受講者氏名"), True, "姓と名の間は空白"),
    Column("name_kana", "フリガナ", ("ふりがな", "name_kana", "氏名フリガナ", "カナ"), True, "カタカナ（ひらがなも可）"),
    Column("email", "メールアドレス", ("email", "e-mail", "mail", "メール"), True, "本人のアドレス（同じ人の判定に使います）"),
    Column("company", "会社・団体名", ("company", "会社名", "事業所名", "所属"), False,
           "中小企業向け研修は必須。支援機関職員向け研修では空欄なら団体名"),
    Column("department", "部署", ("department", "所属部署"), False, "任意"),
    Column("position", "役職", ("position", "役職名"), False, "任意"),
    Column("industry", "業種", ("industry", "業種コード"), False,
           "日本標準産業分類の大分類 A〜T（例: E）、名称（例: 製造業）またはリストの「E 製造業」。"
           "中小企業向け研修は必須"),
    Column("employees", "従業員数", ("employees", "常用従業員数"), False, "数字。中小企業向け研修は必須"),
    Column("capital_yen", "資本金（円）", ("capital", "capital_yen", "資本金", "資本金(円)"), False,
           "円単位の数字。中小企業向け研修は必須"),
    Column("prefecture", "都道府県", ("prefecture",), False, "都道府県名（リストから選択）またはJISコード。空欄なら団体の所在地"),
    Column("phone", "電話番号", ("phone", "電話", "tel"), False, "任意"),
    Column("lodging", "宿泊希望", ("lodging", "宿泊"), False, "有 または 無（空欄は無）"),
)  # fmt: skip
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}


class FileTooLarge(DomainError):
    status = 413
    slug = "file-too-large"
    title_ja = "ファイルが大きすぎます"
    title_en = "File too large"


class NotATable(InvalidInput):
    slug = "not-a-table"
    title_ja = "表として読み込めないファイルです"
    title_en = "The file is not a table"


class TooManyRows(InvalidInput):
    slug = "too-many-rows"
    title_ja = "行数が多すぎます"
    title_en = "Too many rows"


@dataclass
class Table:
    """The file's rows: each a spreadsheet row number and its cells by column key (stripped text)."""

    filename: str
    headers: dict[str, str]  # column key -> the header as written in the file
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    encoding: str = ""
    header_row: int = 1  # the spreadsheet row of the headers
    grid: list[list[str]] = field(default_factory=list, repr=False)  # every cell as read, for marking

    def header(self, key: str) -> str:
        return self.headers.get(key) or COLUMN_BY_KEY[key].header


def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).lower().split()).replace("　", "")


_HEADER_INDEX = {_norm(name): c.key for c in COLUMNS for name in (c.header, c.key, *c.aliases)}


def read_table(filename: str, content: bytes) -> Table:
    """Read an uploaded registration file, or refuse it with a reason a coordinator can act on."""
    if len(content) > MAX_BYTES:
        raise FileTooLarge(
            f"ファイルが大きすぎます（上限 {MAX_BYTES // (1024 * 1024)}MB）。ファイルを分けてアップロードしてください。",
            f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it into several uploads.",
        )
    if not content.strip():
        raise NotATable("ファイルが空です。", "The file is empty.")
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise NotATable(
            "Excel 97-2003 形式（.xls）やパスワード付きのファイルは読み込めません。"
            "Excel で「.xlsx」または「CSV」形式で保存し直してください。",
            "Excel 97-2003 (.xls) and password-protected files cannot be read; save as .xlsx or CSV.",
        )
    if content.startswith(b"PK\x03\x04"):
        grid, encoding = _xlsx_rows(content), "xlsx"
    elif b"\x00" in content[:8192] and not content.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _not_a_table()  # binary: an image, a PDF, an executable...
    else:
        grid, encoding = _csv_rows(content)
    return _to_table(filename, grid, encoding)


def _decode(content: bytes) -> tuple[str, str]:
    """UTF-8 with BOM, then UTF-8, then CP932 (Shift_JIS as Windows Excel writes it)."""
    if content.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8-sig"]
    elif content.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]  # Excel's "Unicode text"
    else:
        candidates = ["utf-8", "cp932"]
    for encoding in candidates:
        try:
            return content.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise NotATable(
        "文字コードを判別できません。CSV は UTF-8 または Shift_JIS で保存するか、.xlsx をアップロードしてください。",
        "Unknown text encoding: save the CSV as UTF-8 or Shift_JIS, or upload an .xlsx file.",
    )


def _not_a_table() -> NotATable:
    return NotATable(
        "表として読み込めないファイルです。テンプレートに入力して CSV または .xlsx で保存してください。",
        "This file is not a table; fill in the template and save it as CSV or .xlsx.",
    )


def _csv_rows(content: bytes) -> tuple[list[list[str]], str]:
    text, encoding = _decode(content)
    if "\x00" in text:
        raise _not_a_table()
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    try:
        grid = []
        for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False):
            grid.append(record)
            if len(record) > MAX_COLUMNS:
                raise _too_wide(len(grid))
            if len(grid) > MAX_SCANNED_ROWS:
                raise _too_long()
    except csv.Error as exc:
        raise NotATable(
            f"CSV の形式が正しくありません（{exc}）。", f"The CSV file is malformed ({exc})."
        ) from None
    return grid, encoding


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _too_long() -> TooManyRows:
    return TooManyRows(
        f"行数が多すぎます（空行を含めて上限 {MAX_SCANNED_ROWS:,}行、データ行は {MAX_ROWS:,}行まで）。"
        "空行を削除するか、ファイルを分けてアップロードしてください。",
        f"Too many rows (at most {MAX_SCANNED_ROWS:,} including blank ones, {MAX_ROWS:,} data rows); "
        "remove blank rows or split the file.",
    )


def _too_wide(row: int) -> NotATable:
    return NotATable(
        f"{row}行目の列が多すぎます（上限 {MAX_COLUMNS}列）。テンプレートの列だけを使ってください。",
        f"Row {row} has too many columns (at most {MAX_COLUMNS}); use the template's columns.",
    )


def _unpacks_too_large() -> FileTooLarge:
    return FileTooLarge(
        "展開後のファイルが大きすぎます（セル・文字列・行の数が上限を超えています）。"
        "テンプレートに入力した表だけを保存してアップロードしてください。",
        "The workbook unpacks to more than the limits allow (cells, strings or rows); "
        "upload only the filled-in template.",
    )


def _first_sheet(book: zipfile.ZipFile) -> str:
    """The first worksheet's member name, as openpyxl will read it."""
    names = [n for n in book.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
    if not names:
        raise _not_a_table()
    return "xl/worksheets/sheet1.xml" if "xl/worksheets/sheet1.xml" in names else sorted(names)[0]


_ROW_TAGS = (b"<row", b":row ")  # SpreadsheetML rows, with or without a namespace prefix
_CELL_TAGS = (b"<c ", b"<c>", b":c ")


def _count(data: bytes, tags: tuple[bytes, ...]) -> int:
    return sum(data.count(tag) for tag in tags)


def check_xlsx_limits(content: bytes) -> None:
    """Refuse a workbook that would unpack beyond the limits, before anything parses it.

    The sizes are the ones the zip declares; Python's zipfile never inflates a member beyond its
    declared size, so they bound what openpyxl can read. The sheet is then scanned as bytes, in
    chunks, counting rows and cells, which costs milliseconds where parsing would cost seconds.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as book:
            members = book.infolist()
            if len(members) > MAX_XLSX_MEMBERS or sum(m.file_size for m in members) > MAX_XLSX_UNPACKED:
                raise _unpacks_too_large()
            sizes = {m.filename: m.file_size for m in members}
            if sizes.get("xl/sharedStrings.xml", 0) > MAX_SHARED_STRINGS:
                raise _unpacks_too_large()
            sheet = _first_sheet(book)
            if sizes[sheet] > MAX_SHEET_XML:
                raise _unpacks_too_large()
            rows = cells = 0
            tail = b""  # the last bytes of the previous chunk, for a tag cut in two
            with book.open(sheet) as stream:
                while chunk := stream.read(1 << 20):
                    rows += _count(tail + chunk, _ROW_TAGS) - _count(tail, _ROW_TAGS)
                    cells += _count(tail + chunk, _CELL_TAGS) - _count(tail, _CELL_TAGS)
                    tail = chunk[-4:]
                    if rows > MAX_SCANNED_ROWS:
                        raise _too_long()
                    if cells > MAX_XLSX_CELLS:
                        raise _unpacks_too_large()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, KeyError, OSError, ValueError) as exc:
        raise _not_a_table() from exc
    except RuntimeError as exc:  # an encrypted member
        raise _not_a_table() from exc


def _xlsx_rows(content: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    check_xlsx_limits(content)
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl's InvalidFileException, zip and XML parser errors
        raise _not_a_table() from exc
    try:
        sheet = book.worksheets[0]
        grid = []
        # a sheet's stated dimension can claim 16,384 columns: read only the ones a table can use
        for values in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS):
            grid.append([_cell(v) for v in values])
            if len(grid) > MAX_SCANNED_ROWS:
                raise _too_long()
        return grid
    except DomainError:
        raise
    except Exception as exc:  # a sheet that cannot be read to the end is as bad as no sheet
        raise _not_a_table() from exc
    finally:
        book.close()


def _to_table(filename: str, grid: list[list[str]], encoding: str) -> Table:
    """Find the header row (the first non-blank one), map its columns and keep the non-blank rows."""
    start = next((i for i, r in enumerate(grid) if any(c.strip() for c in r)), None)
    if start is None:
        raise NotATable("ファイルにデータがありません。", "The file holds no data.")
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    for i, raw in enumerate(grid[start]):
        key = _HEADER_INDEX.get(_norm(raw))
        if key and key not in positions:
            positions[key] = i
            headers[key] = raw.strip()
    missing = [c for c in COLUMNS if c.required and c.key not in positions]
    if len(missing) == len([c for c in COLUMNS if c.required]):
        raise _not_a_table()
    if missing:
        names = "、".join(c.header for c in missing)
        raise NotATable(
            f"必須の列がありません: {names}。1行目に見出しを入れてください（テンプレートをご利用ください）。",
            f"Required columns are missing: {', '.join(c.key for c in missing)}. Row 1 must hold the headers.",
        )
    table = Table(filename=filename, headers=headers, encoding=encoding, header_row=start + 1, grid=grid)
    for index in range(start + 1, len(grid)):
        raw_row = grid[index]
        if not any(c.strip() for c in raw_row):
            continue
        cells = {
            # a cell the service wrote with a ' before a formula-like start reads back as it was
            key: tabular.unsafe_again(unicodedata.normalize("NFKC", raw_row[pos]).strip())
            if pos < len(raw_row)
            else ""
            for key, pos in positions.items()
        }
        if not any(v for k, v in cells.items() if k != "session_code"):
            continue  # an unused line of a template pre-filled with session codes: skipped like a blank row
        table.rows.append((index + 1, cells))
        if len(table.rows) > MAX_ROWS:
            raise TooManyRows(
                f"データ行が多すぎます（上限 {MAX_ROWS:,}行）。ファイルを分けてアップロードしてください。",
                f"More than {MAX_ROWS:,} data rows; split the file into several uploads.",
            )
    if not table.rows:
        raise NotATable(
            "見出し行のほかにデータ行がありません。", "The file has a header row but no data rows."
        )
    return table


# --- the template -----------------------------------------------------------------------------------

# The drop-down lists of the .xlsx template. The reader accepts each of these values (and more: a JSIC
# letter or name alone, a JIS prefecture code, はい/いいえ...), so the lists only warn when a cell holds
# something else.
INDUSTRY_CHOICES: tuple[str, ...] = tuple(f"{code} {name}" for code, name in INDUSTRIES.items())
PREFECTURE_CHOICES: tuple[str, ...] = tuple(PREFECTURES.values())
LODGING_CHOICES: tuple[str, ...] = ("有", "無")
TEMPLATE_ROWS = 1000  # rows 2..1001 of the input sheet offer the drop-down lists
MAX_TEMPLATE_SESSIONS = 200  # session codes a pre-filled template may carry
INPUT_SHEET, NOTES_SHEET = "申込者一覧", "記入方法"
ERROR_HEADER = "エラー"  # the first column of a file handed back with its rows' errors


def template_csv(session_codes: Sequence[str] = ()) -> bytes:
    """The template with Japanese headers, UTF-8 with BOM so that Excel opens it correctly; with
    ``session_codes``, one row per session with only its code filled in."""
    rows: list[list[object]] = [[code, *[""] * (len(COLUMNS) - 1)] for code in session_codes]
    return tabular.write_csv([c.header for c in COLUMNS], rows)


def template_xlsx(session_codes: Sequence[str] = ()) -> bytes:
    """The template as a workbook: the input sheet first (drop-down lists for 業種, 都道府県 and 宿泊希望;
    with ``session_codes``, one row per session with its code filled in), then a sheet explaining each
    column, which also holds the lists."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    sheet.title = INPUT_SHEET
    sheet.append([c.header for c in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for code in session_codes:
        sheet.append([code])
    for i, col in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = max(12, len(col.header) * 2 + 4)
    sheet.freeze_panes = "A2"

    notes = book.create_sheet(NOTES_SHEET)
    notes.append(["列", "必須", "記入方法"])
    for col in COLUMNS:
        notes.append([col.header, "必須" if col.required else "", col.note])
    notes.append([])
    notes.append(["開催回コードの例", "", EXAMPLE_CODE])
    notes.column_dimensions["A"].width = 18
    notes.column_dimensions["C"].width = 70
    lists = {"industry": INDUSTRY_CHOICES, "prefecture": PREFECTURE_CHOICES, "lodging": LODGING_CHOICES}
    for offset, (key, choices) in enumerate(lists.items()):
        letter = get_column_letter(5 + offset)  # E, F, G of the notes sheet
        notes[f"{letter}1"] = f"{COLUMN_BY_KEY[key].header}（選択肢）"
        notes[f"{letter}1"].font = Font(bold=True)
        for row, choice in enumerate(choices, start=2):
            notes[f"{letter}{row}"] = choice
        notes.column_dimensions[letter].width = 34 if key == "industry" else 14
        header = COLUMN_BY_KEY[key].header
        validation = DataValidation(
            type="list",
            formula1=f"'{NOTES_SHEET}'!${letter}$2:${letter}${len(choices) + 1}",
            allow_blank=True,
            showDropDown=False,  # (sic) False shows the arrow
            showErrorMessage=True,
            errorStyle="warning",  # the reader accepts other spellings too: warn, do not refuse
            errorTitle=f"{header}の値",
            error=f"{header}はリストから選んでください（{COLUMN_BY_KEY[key].note}）。",
        )
        target = get_column_letter(next(i for i, c in enumerate(COLUMNS, start=1) if c.key == key))
        validation.add(f"{target}2:{target}{TEMPLATE_ROWS + 1}")
        sheet.add_data_validation(validation)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


# --- a file handed back with its errors ----------------------------------------------------------------


def marked_grid(table: Table, messages: dict[int, list[str]]) -> list[list[str]]:
    """The uploaded rows as they were read, with a first column 「エラー」 holding each row's messages
    (empty for good rows). Rows keep their places, so row numbers stay those of the uploaded file."""
    grid = list(table.grid)
    while grid and not any(c.strip() for c in grid[-1]):
        grid.pop()
    marked = []
    for number, raw in enumerate(grid, start=1):
        first = ERROR_HEADER if number == table.header_row else " ／ ".join(messages.get(number, []))
        marked.append([first, *raw])
    return marked


def marked_csv(table: Table, messages: dict[int, list[str]]) -> bytes:
    """`marked_grid` as CSV, UTF-8 with BOM (whatever the upload's encoding was)."""
    grid = marked_grid(table, messages)
    return tabular.write_csv(grid[0], [list[object](r) for r in grid[1:]])


def marked_xlsx(table: Table, messages: dict[int, list[str]]) -> bytes:
    """`marked_grid` as a workbook; every cell is text, so nothing in it runs as a formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    book = Workbook()
    sheet = book.active
    sheet.title = INPUT_SHEET
    flagged = PatternFill("solid", fgColor="FFD7D7")
    for r, values in enumerate(marked_grid(table, messages), start=1):
        for c, value in enumerate(values, start=1):
            if value == "":
                continue
            cell = sheet.cell(row=r, column=c, value=value)
            cell.data_type = "s"  # "=..." stays text
            if r == table.header_row:
                cell.font = Font(bold=True)
            elif c == 1:
                cell.fill = flagged
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.column_dimensions["A"].width = 60
    sheet.freeze_panes = f"B{table.header_row + 1}"
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


async def read_upload(upload: Any) -> tuple[str, bytes]:
    """The name and bytes of an uploaded file field (refused when the field holds no file)."""
    if upload is None or isinstance(upload, str) or not hasattr(upload, "read"):
        raise InvalidInput(
            "ファイルを選んでアップロードしてください。",
            "Attach the registration file in the multipart field 'file'.",
            errors=[FieldError("file", "ファイルが添付されていません。", "file is missing.")],
        )
    content = await upload.read(MAX_BYTES + 1)
    return (getattr(upload, "filename", "") or "upload.csv")[:255], content


def form_flag(value: Any, default: bool) -> bool:
    """A yes/no form field: true/1/on/yes, false/0/off/no; absent means ``default``."""
    if value is None or value == "":
        return default
    text = str(value).strip().lower()
    if text in {"true", "1", "on", "yes"}:
        return True
    if text in {"false", "0", "off", "no"}:
        return False
    raise InvalidInput(
        f"true か false で指定してください（「{text[:20]}」）。",
        f"Expected true or false, got {text[:20]!r}.",
    )


# --- any uploaded table (the console's imports) -----------------------------------------------------


def read_grid(content: bytes) -> list[list[str]]:
    """The cells of an uploaded CSV or .xlsx file, refused with a reason if it is not a table."""
    if len(content) > MAX_BYTES:
        raise FileTooLarge("ファイルが大きすぎます（上限5MB）。", "The file is larger than 5 MB.")
    if not content.strip():
        raise InvalidInput(
            "ファイルが空です。",
            "The file is empty.",
            errors=[FieldError("file", "ファイルが空です。", "Empty file.")],
        )
    if content.startswith(b"PK\x03\x04"):
        return _xlsx_rows(content)
    grid, _ = _csv_rows(content)
    return grid


def read_rows(content: bytes, required: list[str]) -> list[tuple[int, dict[str, str]]]:
    """(spreadsheet row number, cells by header) of every non-blank row; the header is row 1."""
    grid = read_grid(content)
    header = [h.strip().lstrip("\ufeff") for h in grid[0]]
    missing = [c for c in required if c not in header]
    if missing:
        ja = f"見出し行（1行目）に必要な列がありません: {', '.join(missing)}"
        raise InvalidInput(
            ja, f"Missing columns: {', '.join(missing)}", errors=[FieldError("file", ja, ja, row=1)]
        )
    rows = []
    for number, values in enumerate(grid[1:], start=2):
        if any(v.strip() for v in values):
            rows.append(
                (
                    number,
                    {
                        h: tabular.unsafe_again(values[i].strip()) if i < len(values) else ""
                        for i, h in enumerate(header)
                    },
                )
            )
    return rows
