"""The campus staff API's request bodies."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta


class ManualEnrollment(msgspec.Struct, forbid_unknown_fields=True):
    """Enroll a registered learner by hand (a telephone or paper application)."""

    email: Annotated[
        str, Meta(title="受講者のメールアドレス", max_length=254, examples=["yamada@example.jp"])
    ]
    lodging: Annotated[bool, Meta(title="宿泊あり", examples=[False])] = False
