"""Regenerate ``course_modules.csv``: the curriculum of every course in ``courses.csv``.

Every course day holds two half days (午前・午後) filled by modules of half a day or a full day.
Courses with a practicum (企業診断実習) end with full-day practicum modules on their last days;
long courses (10 days or more) also draw modules from the neighbouring subjects they cover.
Fixed random seed, so the output is stable. Run: ``python seeds/generate_modules.py``.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
PRACTICUM_DAYS = 2  # Course.practicum_days default: the practicum fills the last two days

# category -> lecture titles (half a day each)
LECTURES: dict[str, list[str]] = {
    "strategy": [
        "経営環境の分析（外部環境・内部環境）",
        "SWOT分析とクロスSWOT",
        "ビジョンと経営理念の策定",
        "競争戦略の基本",
        "事業ドメインの設定",
        "中期経営計画の立て方",
        "ビジネスモデルの再設計",
        "新規事業開発の進め方",
        "経営者のリーダーシップ",
        "重点施策と行動計画への落とし込み",
        "経営計画の進捗管理（KPI）",
        "事例に学ぶ経営改革",
    ],
    "organization": [
        "組織づくりの基本",
        "人事評価制度の設計",
        "部下育成とOJT",
        "コーチングの基礎",
        "チームビルディング",
        "モチベーション管理",
        "労務管理の基礎知識",
        "働き方改革と職場環境",
        "管理者の役割と心構え",
        "採用と定着の実務",
        "ハラスメント防止と職場のコミュニケーション",
    ],
    "finance": [
        "財務諸表の読み方",
        "損益分岐点分析",
        "キャッシュフロー経営",
        "資金繰り表の作成",
        "経営分析（収益性・安全性）",
        "管理会計の基礎",
        "原価計算の基本",
        "予算管理と予実分析",
        "金融機関との付き合い方",
        "設備投資の採算計算",
        "税務の基礎知識",
    ],
    "marketing": [
        "マーケティングの基本",
        "顧客分析とターゲット設定",
        "商品企画と価格設定",
        "販売促進の企画",
        "営業プロセスの見える化",
        "提案営業の進め方",
        "Webマーケティング入門",
        "ブランドづくり",
        "顧客満足と顧客維持",
        "販路開拓と展示会の活用",
    ],
    "production": [
        "生産管理の基本",
        "工程管理と納期管理",
        "5Sと職場改善",
        "品質管理（QC七つ道具）",
        "なぜなぜ分析と再発防止",
        "原価低減の進め方",
        "在庫管理の基本",
        "IEによる作業改善",
        "設備保全（TPM）",
        "現場リーダーの役割",
        "生産計画の立て方",
        "安全衛生管理",
    ],
    "succession": [
        "事業承継の全体像",
        "後継者の役割と経営者教育",
        "自社株と相続の基礎",
        "承継計画の作り方",
        "創業計画の立て方",
        "資金調達の方法",
        "事業承継税制の概要",
        "経営理念の承継",
        "親族外承継とM&A",
        "創業者の経験に学ぶ",
    ],
    "digital": [
        "中小企業のDX入門",
        "業務プロセスの見える化",
        "クラウドサービスの活用",
        "データ活用の基礎",
        "情報セキュリティ対策",
        "ITツールの選び方と導入",
        "生成AIの業務活用",
        "ECサイトの運営",
        "システム導入の進め方",
    ],
    "advisory": [
        "企業診断の進め方",
        "ヒアリング技法",
        "経営課題の抽出と整理",
        "改善提案書の作り方",
        "支援事例の研究",
        "ファシリテーション技法",
        "伴走支援の考え方",
        "診断報告のまとめ方",
        "支援機関の連携",
    ],
    "policy": [
        "中小企業施策の全体像",
        "補助金・助成金の活用",
        "金融支援制度の概要",
        "経営革新計画の支援",
        "事業継続力強化計画（BCP）",
        "地域産業振興策",
        "施策の最新動向",
        "税制支援の概要",
    ],
}
EXERCISES = ["ケーススタディ（{}）", "グループ演習（{}）", "個人演習：自社の{}", "ワークショップ（{}）"]
SHORT = {
    "strategy": "経営戦略",
    "organization": "組織・人材",
    "finance": "財務",
    "marketing": "マーケティング",
    "production": "生産管理",
    "succession": "事業承継",
    "digital": "DX",
    "advisory": "企業診断",
    "policy": "支援施策",
}
NEIGHBOURS = {
    "strategy": ["finance", "organization", "marketing"],
    "succession": ["strategy", "finance", "organization"],
    "production": ["strategy", "finance", "digital"],
    "advisory": ["strategy", "finance", "marketing", "production"],
}
OPENING = "オリエンテーション・研修のねらい"
CLOSING = "まとめと行動計画の発表"


def modules_for(course: dict[str, str], rng: random.Random) -> list[tuple[str, str, int, str]]:
    """(title, kind, half days, subject) filling ``days × 2`` half days in curriculum order."""
    category, days = course["category"], int(course["days"])
    practicum = course["has_practicum"].strip().lower() == "true"
    total = 2 * days
    tail = 2 * min(PRACTICUM_DAYS, max(0, days - 1)) if practicum else 0
    subjects = [category] + (NEIGHBOURS.get(category, []) if days >= 10 else [])
    out: list[tuple[str, str, int, str]] = [(OPENING, "lecture", 1, category)]
    used: set[str] = set()
    left = total - tail - 2  # opening and closing half days
    while left > 0:
        subject = category if rng.random() < 0.6 else rng.choice(subjects)
        if left >= 2 and rng.random() < 0.2:
            out.append((rng.choice(EXERCISES).format(SHORT[subject]), "exercise", 2, subject))
            left -= 2
            continue
        fresh = [t for t in LECTURES[subject] if t not in used] or LECTURES[subject]
        title = rng.choice(fresh)
        used.add(title)
        kind = "exercise" if rng.random() < 0.25 else "lecture"
        out.append((title + ("（演習）" if kind == "exercise" else ""), kind, 1, subject))
        left -= 1
    if total - tail >= 2:
        out.append((CLOSING, "exercise", 1, category))
    for k in range(tail // 2):
        out.append((f"企業診断実習 {k + 1}日目", "practicum", 2, category))
    return out


def main() -> None:
    rng = random.Random(20260401)
    with (HERE / "courses.csv").open(encoding="utf-8", newline="") as f:
        courses = list(csv.DictReader(f))
    with (HERE / "course_modules.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["course", "seq", "title", "kind", "half_days", "subject"])
        for course in courses:
            for seq, (title, kind, half_days, subject) in enumerate(modules_for(course, rng), start=1):
                w.writerow([course["code"], seq, title, kind, half_days, subject])


if __name__ == "__main__":
    main()
