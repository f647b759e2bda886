"""Reference data of Japan used in forms: prefectures (JIS X 0401) and JSIC major divisions."""

from __future__ import annotations

PREFECTURES: dict[str, str] = {
    f"{i:02d}": name
    for i, name in enumerate(
        [
            "北海道",
            "青森県",
            "岩手県",
            "宮城県",
            "秋田県",
            "山形県",
            "福島県",
            "茨城県",
            "栃木県",
            "群馬県",
            "埼玉県",
            "千葉県",
            "東京都",
            "神奈川県",
            "新潟県",
            "富山県",
            "石川県",
            "福井県",
            "山梨県",
            "長野県",
            "岐阜県",
            "静岡県",
            "愛知県",
            "三重県",
            "滋賀県",
            "京都府",
            "大阪府",
            "兵庫県",
            "奈良県",
            "和歌山県",
            "鳥取県",
            "島根県",
            "岡山県",
            "広島県",
            "山口県",
            "徳島県",
            "香川県",
            "愛媛県",
            "高知県",
            "福岡県",
            "佐賀県",
            "長崎県",
            "熊本県",
            "大分県",
            "宮崎県",
            "鹿児島県",
            "沖縄県",
        ],
        start=1,
    )
}

PREFECTURES_EN: dict[str, str] = {
    f"{i:02d}": name
    for i, name in enumerate(
        "Hokkaido Aomori Iwate Miyagi Akita Yamagata Fukushima Ibaraki Tochigi Gunma Saitama Chiba Tokyo "
        "Kanagawa Niigata Toyama Ishikawa Fukui Yamanashi Nagano Gifu Shizuoka Aichi Mie Shiga Kyoto Osaka "
        "Hyogo Nara Wakayama Tottori Shimane Okayama Hiroshima Yamaguchi Tokushima Kagawa Ehime Kochi "
        "Fukuoka Saga Nagasaki Kumamoto Oita Miyazaki Kagoshima Okinawa".split(),
        start=1,
    )
}

# 日本標準産業分類 (JSIC) major divisions
INDUSTRIES: dict[str, str] = {
    "A": "農業，林業",
    "B": "漁業",
    "C": "鉱業，採石業，砂利採取業",
    "D": "建設業",
    "E": "製造業",
    "F": "電気・ガス・熱供給・水道業",
    "G": "情報通信業",
    "H": "運輸業，郵便業",
    "I": "卸売業，小売業",
    "J": "金融業，保険業",
    "K": "不動産業，物品賃貸業",
    "L": "学術研究，専門・技術サービス業",
    "M": "宿泊業，飲食サービス業",
    "N": "生活関連サービス業，娯楽業",
    "O": "教育，学習支援業",
    "P": "医療，福祉",
    "Q": "複合サービス事業",
    "R": "サービス業（他に分類されないもの）",
    "S": "公務（他に分類されるものを除く）",
    "T": "分類不能の産業",
}
INDUSTRIES_EN: dict[str, str] = {
    "A": "Agriculture and forestry",
    "B": "Fisheries",
    "C": "Mining and quarrying of stone and gravel",
    "D": "Construction",
    "E": "Manufacturing",
    "F": "Electricity, gas, heat supply and water",
    "G": "Information and communications",
    "H": "Transport and postal activities",
    "I": "Wholesale and retail trade",
    "J": "Finance and insurance",
    "K": "Real estate and goods rental and leasing",
    "L": "Scientific research, professional and technical services",
    "M": "Accommodations, eating and drinking services",
    "N": "Living-related and personal services and amusement services",
    "O": "Education, learning support",
    "P": "Medical, health care and welfare",
    "Q": "Compound services",
    "R": "Services, not elsewhere classified",
    "S": "Government, except elsewhere classified",
    "T": "Industries unable to classify",
}

# 中小企業基本法 第2条: a company is an SME when its capital OR its employees are at most these.
# (capital in yen, regular employees)
_MANUFACTURING_AND_OTHERS = (300_000_000, 300)
_WHOLESALE = (100_000_000, 100)
_SERVICES = (50_000_000, 100)
_RETAIL = (50_000_000, 50)
SME_THRESHOLDS: dict[str, tuple[int, int]] = {
    **dict.fromkeys("ABCDEFGHJKT", _MANUFACTURING_AND_OTHERS),
    "I": _RETAIL,  # the stricter of wholesale and retail unless the learner says wholesale
    **dict.fromkeys("LMNOPQR", _SERVICES),
}


def is_sme(industry: str, capital_yen: int, employees: int, *, wholesale: bool = False) -> bool:
    """The 中小企業基本法 test: capital or employees at or under the industry's threshold."""
    if industry == "S":  # public service is never an SME
        return False
    capital_max, employees_max = _WHOLESALE if industry == "I" and wholesale else SME_THRESHOLDS[industry]
    return capital_yen <= capital_max or employees <= employees_max


def prefecture_code(value: str | int) -> str | None:
    """'13', 13, '東京都' or '東京' → '13'; None when it is not a prefecture."""
    text = str(value).strip()
    if text.isdigit() and f"{int(text):02d}" in PREFECTURES:
        return f"{int(text):02d}"
    for code, name in PREFECTURES.items():
        if text in (name, name.rstrip("都道府県")) or (name == "北海道" and text == "北海道"):
            return code
    return None
