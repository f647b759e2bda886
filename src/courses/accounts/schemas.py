"""The accounts API's request and response bodies. ``validate_registration`` keeps the rules (a
katakana reading, a JIS prefecture, a password of ten characters or more); these say what may be
sent, and what comes back, for ``/schema``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from courses.accounts.service import MIN_PASSWORD, validate_registration
from courses.core.bodies import RECHECKS
from courses.core.errors import FieldError, InvalidInput
from courses.models import Organization, id_of

# What each field takes, as far as a pattern can say it; ``validate_registration`` checks the rest
# (full-width letters and hiragana are normalised there, so the patterns admit them).
Email = Annotated[
    str,
    Meta(
        title="メールアドレス",
        description="name@example.jp の形式",
        max_length=254,
        pattern=r"^\s*[^@＠\s]+[@＠][^@＠\s]+[.．][^@＠\s]+\s*$",
        examples=["yamada@example.jp"],
    ),
]
NOT_BLANK = r"\S"  # JSON Schema patterns match anywhere in the value
KANA = r"^\s*[ぁ-ゖァ-ヿ][ぁ-ゖァ-ヿ 　－]*$"


def _text(
    title: str, max_length: int, example: str, *, pattern: str | None = None, description: str | None = None
) -> Any:
    return Annotated[
        str,
        Meta(
            title=title, description=description, max_length=max_length, pattern=pattern, examples=[example]
        ),
    ]


CompanyKana = _text(
    "会社・団体名フリガナ",
    200,
    "サンジョウセイキ",
    pattern=rf"^\s*$|{KANA}",
    description="カタカナ（ひらがなも可）",
)


class Registration(msgspec.Struct, forbid_unknown_fields=True):
    """A learner's own registration: the account and the profile the campus needs for lodging."""

    email: Email
    password: Annotated[
        str,
        Meta(
            title="パスワード",
            description=f"{MIN_PASSWORD}文字以上",
            min_length=MIN_PASSWORD,
            max_length=200,
            examples=["correct-horse-battery"],
        ),
    ]
    name: _text("氏名", 100, "山田 太郎", pattern=NOT_BLANK)  # type: ignore[valid-type]
    name_kana: _text("フリガナ", 100, "ヤマダ タロウ", pattern=KANA, description="カタカナ（ひらがなも可）")  # type: ignore[valid-type]
    organization_kind: Annotated[
        Literal["sme", "support_agency"],
        Meta(title="所属の種別", description="sme（中小企業）、support_agency（支援機関）"),
    ]
    company: _text("会社・団体名", 200, "三条精機株式会社", pattern=NOT_BLANK)  # type: ignore[valid-type]
    industry: Annotated[
        str,
        Meta(title="業種", description="日本標準産業分類の大分類 A〜T", pattern="^[A-Ta-t]$", examples=["E"]),
    ]
    employees: Annotated[int, Meta(title="従業員数", ge=0, le=10_000_000, examples=[45])]
    capital_yen: Annotated[int, Meta(title="資本金（円）", ge=0, le=10**14, examples=[30_000_000])]
    prefecture: Annotated[
        str | int, Meta(title="都道府県", description="JISコード 01〜47 または都道府県名", examples=["15"])
    ]
    company_kana: CompanyKana | UnsetType = UNSET  # type: ignore[valid-type]
    department: _text("部署", 100, "製造部") | UnsetType = UNSET  # type: ignore[valid-type]
    position: _text("役職", 100, "部長") | UnsetType = UNSET  # type: ignore[valid-type]
    phone: _text("電話番号", 30, "0256-00-0000") | UnsetType = UNSET  # type: ignore[valid-type]
    gender: Annotated[Literal["female", "male"] | None, Meta(title="性別（相部屋の割当てに使います）")] = None
    accessibility_needs: _text("配慮が必要な事項", 500, "車椅子を使用") | UnsetType = UNSET  # type: ignore[valid-type]
    needs_accessible_room: Annotated[bool, Meta(title="バリアフリーの部屋が必要")] = False


class TokenRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Sign in to the API: an email and password for a bearer token."""

    email: Email
    password: Annotated[
        str, Meta(title="パスワード", min_length=1, max_length=200, examples=["correct-horse-battery"])
    ]


def _recheck_registration(data: Mapping[str, Any], today: date) -> list[FieldError]:
    try:
        validate_registration(dict(data))
    except InvalidInput as exc:
        return list(exc.errors)
    return []


RECHECKS[Registration] = _recheck_registration


# --- response bodies ---------------------------------------------------------------------------------

UserRole = Literal["learner", "coordinator", "staff", "admin"]
RoleOf = Annotated[
    UserRole,
    Meta(
        title="権限",
        description="learner（受講者）、coordinator（団体の担当者）、staff（キャンパスの職員）、admin（管理者）",
    ),
]
Name = Annotated[str, Meta(title="氏名", examples=["山田 太郎"])]
Address = Annotated[str, Meta(title="メールアドレス", examples=["yamada@example.jp"])]


Verified = Annotated[
    bool,
    Meta(
        title="メールアドレス確認済み",
        description="false until the link mailed at registration is opened; a learner enrolls only once it is true",
    ),
]


class AccountOut(msgspec.Struct):
    """The account just registered."""

    id: int
    email: Address
    name: Name
    role: RoleOf
    email_verified: Verified


class TokenOut(msgspec.Struct):
    """A bearer token for the ``Authorization`` header of the API's requests."""

    access_token: Annotated[str, Meta(title="アクセストークン")]
    token_type: Literal["bearer"]
    expires_in: Annotated[int, Meta(title="有効期間（秒）", examples=[2592000])]


class OrganizationOut(msgspec.Struct):
    """A chamber of commerce (商工会議所), 商工会 or prefectural support centre that registers people."""

    id: int
    name: Annotated[str, Meta(title="団体名", examples=["東京商工会議所"])]
    kind: Annotated[
        str,
        Meta(
            title="団体の種別",
            description="chamber（商工会議所）、society_of_commerce（商工会）、prefectural_center（都道府県の支援センター）、other",
            examples=["chamber"],
        ),
    ]
    prefecture: Annotated[str, Meta(title="都道府県", description="JIS code 01-47", examples=["13"])]

    @classmethod
    def of(cls, org: Organization) -> OrganizationOut:
        return cls(id_of(org), org.name, org.kind, org.prefecture)


class Me(msgspec.Struct):
    """Who the bearer of the token is."""

    id: int
    email: Address
    name: Name
    role: RoleOf
    email_verified: Verified
    organization: Annotated[
        OrganizationOut | None,
        Meta(title="所属団体", description="a coordinator's organisation; null for everyone else"),
    ]
