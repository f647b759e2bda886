"""Files the service hands out: one way to name them and one way to type them.

- `Content-Disposition` follows RFC 6266: an ASCII fallback in `filename` and the real name,
  percent-encoded UTF-8, in `filename*`, so a session code with Japanese, quotes or line breaks can
  neither break the header nor inject another.
- Litestar appends `; charset=<encoding>` to every `text/*` type itself, so the charset is passed as
  the response's encoding, never written into the media type (that gave `charset=utf-8; charset=utf-8`).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import quote

from litestar import Response

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def attachment(filename: str) -> str:
    """The `Content-Disposition` value that offers `filename` for download."""
    name = "".join(ch for ch in filename if unicodedata.category(ch)[0] != "C")  # no control characters
    ascii_name = _UNSAFE.sub("_", unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode())
    ascii_name = ascii_name.strip("._") or "download"
    if "." in name and "." not in ascii_name:
        ascii_name += name[name.rindex(".") :].encode("ascii", "ignore").decode()
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def file_response(
    content: bytes, filename: str, media_type: str, charset: str | None = None
) -> Response[bytes]:
    """`content` offered for download as `filename` (`charset` for text types)."""
    kwargs: dict[str, Any] = {"encoding": charset} if charset else {}
    return Response(
        content, media_type=media_type, headers={"Content-Disposition": attachment(filename)}, **kwargs
    )


def csv_response(content: bytes, filename: str, encoding: str = "utf-8") -> Response[bytes]:
    """A CSV download; `encoding` is the one it was written in (`cp932` and its aliases: Shift_JIS)."""
    charset = "shift_jis" if encoding.lower() in {"cp932", "sjis", "shift_jis"} else "utf-8"
    return file_response(content, filename, "text/csv", charset)
