"""The bulk registration API's request body (a multipart form, since it carries a file)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from litestar.datastructures import UploadFile


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
