"""Regenerate ``instructors.csv`` and ``practicum_sites.csv``: the resources the scheduler plans with.

Fixed random seed, so the output is stable. Availability is stored relative to the fiscal year
(``all``, or fiscal months such as ``6-11``) and laid out by the loader
(``courses.services.console_resources.load_resources``). Run: ``python seeds/generate_resources.py``.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent

# campus -> (prefecture code, places near it: (address prefix, place name used in company names))
CAMPUS_AREAS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "asahikawa": (
        "01",
        [
            ("北海道旭川市永山", "永山"),
            ("北海道旭川市東光", "東光"),
            ("北海道旭川市神楽", "神楽"),
            ("北海道旭川市末広", "旭川"),
            ("北海道上川郡東神楽町", "東神楽"),
            ("北海道深川市", "深川"),
            ("北海道富良野市", "富良野"),
            ("北海道上川郡鷹栖町", "鷹栖"),
        ],
    ),
    "sendai": (
        "04",
        [
            ("宮城県仙台市青葉区", "青葉"),
            ("宮城県仙台市宮城野区", "宮城野"),
            ("宮城県仙台市泉区", "泉"),
            ("宮城県名取市", "名取"),
            ("宮城県多賀城市", "多賀城"),
            ("宮城県塩竈市", "塩竈"),
            ("宮城県富谷市", "富谷"),
            ("宮城県岩沼市", "岩沼"),
        ],
    ),
    "tokyo": (
        "13",
        [
            ("東京都東大和市", "東大和"),
            ("東京都立川市", "立川"),
            ("東京都武蔵村山市", "武蔵村山"),
            ("東京都小平市", "小平"),
            ("東京都八王子市", "八王子"),
            ("埼玉県所沢市", "所沢"),
            ("東京都昭島市", "昭島"),
            ("東京都青梅市", "青梅"),
            ("東京都府中市", "府中"),
        ],
    ),
    "sanjo": (
        "15",
        [
            ("新潟県三条市", "三条"),
            ("新潟県燕市", "燕"),
            ("新潟県長岡市", "長岡"),
            ("新潟県加茂市", "加茂"),
            ("新潟県見附市", "見附"),
            ("新潟県新潟市南区", "白根"),
            ("新潟県田上町", "田上"),
        ],
    ),
    "seto": (
        "23",
        [
            ("愛知県瀬戸市", "瀬戸"),
            ("愛知県尾張旭市", "尾張旭"),
            ("愛知県長久手市", "長久手"),
            ("愛知県春日井市", "春日井"),
            ("愛知県名古屋市守山区", "守山"),
            ("愛知県豊田市", "豊田"),
            ("愛知県日進市", "日進"),
            ("岐阜県多治見市", "多治見"),
        ],
    ),
    "kansai": (
        "27",
        [
            ("大阪府大阪市中央区", "船場"),
            ("大阪府東大阪市", "東大阪"),
            ("大阪府八尾市", "八尾"),
            ("大阪府堺市堺区", "堺"),
            ("兵庫県尼崎市", "尼崎"),
            ("大阪府守口市", "守口"),
            ("大阪府門真市", "門真"),
            ("大阪府吹田市", "吹田"),
            ("京都府京都市南区", "京南"),
        ],
    ),
    "hiroshima": (
        "34",
        [
            ("広島県広島市安佐南区", "安佐"),
            ("広島県広島市西区", "広島"),
            ("広島県東広島市", "西条"),
            ("広島県呉市", "呉"),
            ("広島県廿日市市", "廿日市"),
            ("広島県三原市", "三原"),
            ("広島県福山市", "福山"),
            ("広島県府中町", "府中"),
        ],
    ),
    "kyushu": (
        "40",
        [
            ("福岡県福岡市博多区", "博多"),
            ("福岡県福岡市東区", "香椎"),
            ("福岡県糟屋郡粕屋町", "粕屋"),
            ("福岡県春日市", "春日"),
            ("福岡県大野城市", "大野城"),
            ("福岡県久留米市", "久留米"),
            ("福岡県宗像市", "宗像"),
            ("福岡県飯塚市", "飯塚"),
        ],
    ),
    "hitoyoshi": (
        "43",
        [
            ("熊本県人吉市", "人吉"),
            ("熊本県球磨郡錦町", "錦"),
            ("熊本県球磨郡あさぎり町", "あさぎり"),
            ("熊本県八代市", "八代"),
            ("熊本県球磨郡多良木町", "多良木"),
            ("熊本県熊本市南区", "熊本"),
            ("鹿児島県伊佐市", "伊佐"),
        ],
    ),
}
SITES_PER_CAMPUS = {"tokyo": 40, "kansai": 36, "asahikawa": 28, "hitoyoshi": 26}  # others: 32

# JSIC division -> (company-name stems, site labels)
INDUSTRY_WORDS: dict[str, tuple[list[str], list[str]]] = {
    "E": (
        ["精機", "製作所", "工業", "金属", "化成", "食品", "プレス工業", "鋳造", "電子", "刃物", "木工所"],
        ["本社工場", "第二工場", "本社・工場"],
    ),
    "D": (["建設", "工務店", "設備工業", "土木", "塗装"], ["本社", "本社・資材センター"]),
    "I": (["商事", "商店", "物産", "ストア", "産業"], ["本店", "本社", "物流センター"]),
    "H": (["運輸", "物流", "交通"], ["本社営業所", "物流センター"]),
    "M": (["観光ホテル", "旅館", "フーズ", "食堂"], ["本館", "本店"]),
    "P": (["ケアサービス", "福祉会", "メディカル"], ["本部", "デイサービスセンター"]),
    "G": (["システム", "ソフト", "データサービス"], ["本社", "開発センター"]),
    "N": (["クリーニング", "美容室", "ライフサービス"], ["本店", "本社"]),
    "R": (["ビルサービス", "環境サービス", "整備"], ["本社"]),
    "A": (["農園", "ファーム", "林業"], ["農場", "本社"]),
    "K": (["不動産", "リース"], ["本社"]),
}
INDUSTRY_WEIGHTS = {"E": 34, "D": 10, "I": 16, "H": 7, "M": 8, "P": 7, "G": 6, "N": 4, "R": 4, "A": 2, "K": 2}
OWNER_WORDS = [
    "丸",
    "山",
    "大",
    "三和",
    "第一",
    "協和",
    "東洋",
    "昭和",
    "平成",
    "中央",
    "旭",
    "富士",
    "北斗",
    "光",
    "栄",
    "日進",
    "明和",
    "共栄",
    "太陽",
    "新",
]
MONTH_RANGES = ["all"] * 14 + ["4-9", "6-12", "10-3", "5-2", "4-12", "7-3"]

SURNAMES = [
    ("佐藤", "サトウ", "sato"),
    ("鈴木", "スズキ", "suzuki"),
    ("高橋", "タカハシ", "takahashi"),
    ("田中", "タナカ", "tanaka"),
    ("伊藤", "イトウ", "ito"),
    ("渡辺", "ワタナベ", "watanabe"),
    ("山本", "ヤマモト", "yamamoto"),
    ("中村", "ナカムラ", "nakamura"),
    ("小林", "コバヤシ", "kobayashi"),
    ("加藤", "カトウ", "kato"),
    ("吉田", "ヨシダ", "yoshida"),
    ("山田", "ヤマダ", "yamada"),
    ("佐々木", "ササキ", "sasaki"),
    ("山口", "ヤマグチ", "yamaguchi"),
    ("松本", "マツモト", "matsumoto"),
    ("井上", "イノウエ", "inoue"),
    ("木村", "キムラ", "kimura"),
    ("林", "ハヤシ", "hayashi"),
    ("斎藤", "サイトウ", "saito"),
    ("清水", "シミズ", "shimizu"),
    ("山崎", "ヤマザキ", "yamazaki"),
    ("森", "モリ", "mori"),
    ("池田", "イケダ", "ikeda"),
    ("橋本", "ハシモト", "hashimoto"),
    ("阿部", "アベ", "abe"),
    ("石川", "イシカワ", "ishikawa"),
    ("前田", "マエダ", "maeda"),
    ("藤田", "フジタ", "fujita"),
    ("小川", "オガワ", "ogawa"),
    ("岡田", "オカダ", "okada"),
    ("後藤", "ゴトウ", "goto"),
    ("長谷川", "ハセガワ", "hasegawa"),
    ("村上", "ムラカミ", "murakami"),
    ("近藤", "コンドウ", "kondo"),
    ("石井", "イシイ", "ishii"),
    ("坂本", "サカモト", "sakamoto"),
    ("遠藤", "エンドウ", "endo"),
    ("青木", "アオキ", "aoki"),
    ("藤井", "フジイ", "fujii"),
    ("西村", "ニシムラ", "nishimura"),
    ("福田", "フクダ", "fukuda"),
    ("太田", "オオタ", "ota"),
    ("三浦", "ミウラ", "miura"),
    ("藤原", "フジワラ", "fujiwara"),
    ("松田", "マツダ", "matsuda"),
]
GIVEN = [
    ("健一", "ケンイチ", "kenichi"),
    ("誠", "マコト", "makoto"),
    ("浩二", "コウジ", "koji"),
    ("直樹", "ナオキ", "naoki"),
    ("大輔", "ダイスケ", "daisuke"),
    ("隆", "タカシ", "takashi"),
    ("裕子", "ユウコ", "yuko"),
    ("恵美", "エミ", "emi"),
    ("智子", "トモコ", "tomoko"),
    ("美穂", "ミホ", "miho"),
    ("和也", "カズヤ", "kazuya"),
    ("修", "オサム", "osamu"),
    ("聡", "サトシ", "satoshi"),
    ("亮", "リョウ", "ryo"),
    ("由美", "ユミ", "yumi"),
    ("真理子", "マリコ", "mariko"),
    ("博之", "ヒロユキ", "hiroyuki"),
    ("剛", "ツヨシ", "tsuyoshi"),
    ("陽子", "ヨウコ", "yoko"),
    ("拓也", "タクヤ", "takuya"),
    ("明美", "アケミ", "akemi"),
    ("正樹", "マサキ", "masaki"),
    ("香織", "カオリ", "kaori"),
    ("俊介", "シュンスケ", "shunsuke"),
    ("洋平", "ヨウヘイ", "yohei"),
    ("千尋", "チヒロ", "chihiro"),
    ("信也", "シンヤ", "shinya"),
    ("敦子", "アツコ", "atsuko"),
    ("康弘", "ヤスヒロ", "yasuhiro"),
    ("久美子", "クミコ", "kumiko"),
]
SUBJECTS = [
    "strategy",
    "organization",
    "finance",
    "marketing",
    "production",
    "succession",
    "digital",
    "advisory",
    "policy",
]
# qualification -> subjects it usually teaches
QUALIFICATIONS = {
    "中小企業診断士": ["strategy", "marketing", "organization", "advisory", "finance", "succession"],
    "税理士": ["finance", "succession"],
    "公認会計士": ["finance", "strategy"],
    "社会保険労務士": ["organization", "policy"],
    "技術士": ["production", "digital"],
    "ITコーディネータ": ["digital", "strategy"],
    "弁護士": ["succession", "policy"],
    "元大企業役員": ["strategy", "organization", "marketing", "production"],
    "大学教授": ["strategy", "finance", "marketing", "organization"],
}
# a rough distance class between prefectures: the regions of Japan
REGION = {
    "01": 0,
    **{f"{i:02d}": 1 for i in range(2, 8)},
    **{f"{i:02d}": 2 for i in range(8, 15)},
    **{f"{i:02d}": 3 for i in range(15, 21)},
    **{f"{i:02d}": 4 for i in range(21, 25)},
    **{f"{i:02d}": 5 for i in range(25, 31)},
    **{f"{i:02d}": 6 for i in range(31, 40)},
    **{f"{i:02d}": 7 for i in range(40, 48)},
}
REGION_TRAVEL_YEN = [0, 12000, 18000, 26000, 34000, 40000, 48000, 60000]


def write(name: str, header: list[str], rows: list[list[object]]) -> None:
    with (HERE / name).open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def practicum_sites() -> list[list[object]]:
    rng = random.Random(20260402)
    divisions = list(INDUSTRY_WEIGHTS)
    weights = [INDUSTRY_WEIGHTS[d] for d in divisions]
    rows: list[list[object]] = []
    used: set[str] = set()
    for campus, (_, places) in CAMPUS_AREAS.items():
        campus_companies: list[str] = []
        for _ in range(SITES_PER_CAMPUS.get(campus, 32)):
            while True:
                industry = rng.choices(divisions, weights)[0]
                stems, labels = INDUSTRY_WORDS[industry]
                address_prefix, place = rng.choice(places)
                base = rng.choice([place, place, rng.choice(OWNER_WORDS)]) + rng.choice(stems)
                if base not in used:
                    used.add(base)
                    break
            form = rng.choices(["株式会社{}", "{}株式会社", "有限会社{}", "社会福祉法人{}"], [55, 30, 10, 0])[
                0
            ]
            if industry == "P" and rng.random() < 0.5:
                form = "社会福祉法人{}"
            company = form.format(base)
            name = f"{base}（{rng.choice(labels)}）"
            address = f"{address_prefix}{rng.randint(1, 9)}-{rng.randint(1, 30)}-{rng.randint(1, 20)}"
            travel = rng.randint(10, 90)
            capacity = rng.randint(4, 12)
            excluded = ""
            if campus_companies and rng.random() < 0.08:
                excluded = ";".join(
                    rng.sample(campus_companies, k=min(len(campus_companies), rng.randint(1, 2)))
                )
            campus_companies.append(company)
            rows.append(
                [
                    campus,
                    name,
                    company,
                    industry,
                    address,
                    travel,
                    capacity,
                    excluded,
                    rng.choice(MONTH_RANGES),
                ]
            )
    return rows


def instructors() -> list[list[object]]:
    rng = random.Random(20260403)
    prefectures = [f"{i:02d}" for i in range(1, 48)]
    rows: list[list[object]] = []
    seen: set[str] = set()
    plan = [(campus, "staff") for campus in CAMPUS_AREAS for _ in range(9)]  # 81 campus staff
    plan += [(None, "external") for _ in range(219)]
    for n, (home_campus, kind) in enumerate(plan, start=1):
        while True:
            s, g = rng.choice(SURNAMES), rng.choice(GIVEN)
            if s[0] + g[0] not in seen:
                seen.add(s[0] + g[0])
                break
        if kind == "staff":
            assert home_campus is not None
            prefecture = CAMPUS_AREAS[home_campus][0]
            qualification = rng.choice(["中小企業診断士", "中小企業診断士", "", "技術士", "社会保険労務士"])
            subjects = rng.sample(SUBJECTS, k=rng.randint(2, 4))
            fee, travel, max_load = 0, 0, rng.randint(6, 10)
            email = f"{s[2]}.{g[2]}@smrj.example.jp"
        else:
            near = rng.random() < 0.55
            if near:  # most experts live near a campus; some teach everywhere
                campus_key = rng.choice(list(CAMPUS_AREAS))
                prefecture = CAMPUS_AREAS[campus_key][0]
                home_campus = campus_key if rng.random() < 0.6 else None
            else:
                prefecture = rng.choice(prefectures)
            qualification = rng.choice(list(QUALIFICATIONS))
            subjects = rng.sample(
                QUALIFICATIONS[qualification], k=min(len(QUALIFICATIONS[qualification]), rng.randint(1, 3))
            )
            fee = rng.randrange(30000, 120001, 5000)
            # the travel cost to the instructor's nearest campus, by how far the region is
            region = REGION[prefecture]
            nearest = min(abs(region - REGION[p]) for p, _ in CAMPUS_AREAS.values())
            travel = REGION_TRAVEL_YEN[nearest] + (rng.randrange(2000, 8001, 500) if nearest == 0 else 0)
            max_load = rng.randint(1, 6)
            email = f"{s[2]}.{g[2]}{n}@example.jp"
        availability = rng.choice(MONTH_RANGES)
        rows.append(
            [
                f"{s[0]} {g[0]}",
                f"{s[1]} {g[1]}",
                kind,
                qualification,
                prefecture,
                home_campus or "",
                ",".join(sorted(subjects, key=SUBJECTS.index)),
                max_load,
                fee,
                travel,
                email,
                availability,
            ]
        )
    return rows


SITE_HEADER = [
    "campus",
    "name",
    "company_name",
    "industry",
    "address",
    "travel_minutes",
    "capacity_per_day",
    "excluded_companies",
    "availability",
]
INSTRUCTOR_HEADER = [
    "name",
    "name_kana",
    "kind",
    "qualification",
    "home_prefecture",
    "home_campus",
    "subjects",
    "max_modules_per_month",
    "fee_per_module_yen",
    "travel_cost_yen",
    "email",
    "availability",
]


def main() -> None:
    write("practicum_sites.csv", SITE_HEADER, practicum_sites())
    write("instructors.csv", INSTRUCTOR_HEADER, instructors())


if __name__ == "__main__":
    main()
