"""The learner API's request bodies."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta


class EnrollRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Apply for a session: a seat, or the end of its waiting list when it is full."""

    lodging: Annotated[
        bool, Meta(title="宿泊の希望", description="研修期間中、大学校の寮に泊まるか", examples=[True])
    ] = False
