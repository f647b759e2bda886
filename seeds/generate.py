"""Regenerate the seed files that are laid out by rule rather than written by hand.

``classrooms.csv``, ``dorm_rooms.csv`` and ``sessions.csv`` come from this script (fixed random seed,
so the output is stable); ``campuses.csv``, ``categories.csv`` and ``courses.csv`` are hand-written.
Sessions are planned in fiscal-year-relative weeks, so that the loader can lay them out on the fiscal
year in which it runs and the demo never goes stale. Run: ``python seeds/generate.py``.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent

# rooms, floors that are women-only (counted from the top), classrooms
DORMS = {
    "asahikawa": (96, 1, 5),
    "sendai": (120, 1, 6),
    "tokyo": (198, 2, 10),
    "sanjo": (110, 1, 6),
    "seto": (150, 2, 7),
    "kansai": (170, 2, 8),
    "hiroshima": (140, 1, 7),
    "hitoyoshi": (80, 1, 5),
}
NO_LODGING_CLASSROOMS = {"kyushu": 6}
SESSIONS_PER_CAMPUS = {
    "asahikawa": 70,
    "sendai": 75,
    "tokyo": 110,
    "sanjo": 72,
    "seto": 76,
    "kansai": 78,
    "hiroshima": 75,
    "kyushu": 70,
    "hitoyoshi": 74,
}
SUPPORT_SESSIONS = {"tokyo": 16}  # the rest get 11 each
HOLIDAY_WEEKS = {4, 19, 38, 39}  # Golden Week, Obon, the New Year (weeks from the first April Monday)


def write(name: str, header: list[str], rows: list[list[object]]) -> None:
    with (HERE / name).open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def dorm_rooms() -> list[list[object]]:
    rows: list[list[object]] = []
    for campus, (count, women_floors, _) in DORMS.items():
        per_floor = 24 if count < 130 else 30
        floors = -(-count // per_floor)
        left = count
        for i in range(floors):
            floor = i + 2
            n = min(per_floor, left)
            left -= n
            zone = "women" if i >= floors - women_floors else ("any" if i == 0 else "men")
            for j in range(1, n + 1):
                kind = "twin" if j > n - 2 else "single"
                rows.append([campus, f"{floor}{j:02d}", floor, kind, zone, "true" if j == 1 else "false"])
    return rows


def classrooms() -> list[list[object]]:
    rows: list[list[object]] = []
    counts = {c: n for c, (_, _, n) in DORMS.items()} | NO_LODGING_CLASSROOMS
    for campus in SESSIONS_PER_CAMPUS:
        n = counts[campus]
        rows.append([campus, "大講義室", 120])
        for k in range(1, n - 1):
            rows.append([campus, f"第{k}研修室", 48 if k % 3 == 1 else 40])
        rows.append([campus, "ゼミ室", 24])
    return rows


def blocks_for(days: int) -> list[tuple[int, int]]:
    """(week offset, length in days) of each block of a course of ``days`` days."""
    if days <= 5:
        return [(0, days)]
    if days <= 10:
        half = days // 2
        return [(0, half), (3, days - half)]
    per = days // 4
    return [(4 * k, per + (1 if k < days % 4 else 0)) for k in range(4)]


def sessions() -> list[list[object]]:
    rng = random.Random(20260401)
    courses = list(csv.DictReader((HERE / "courses.csv").open(encoding="utf-8")))
    sme = [c for c in courses if c["audience"] == "sme"]
    support = [c for c in courses if c["audience"] == "support"]
    long_courses = [c for c in sme if int(c["days"]) > 5]
    short_courses = [c for c in sme if int(c["days"]) <= 5]
    rows: list[list[object]] = []
    for campus, total in SESSIONS_PER_CAMPUS.items():
        n_support = SUPPORT_SESSIONS.get(campus, 11)
        picks = [rng.choice(support) for _ in range(n_support)]
        picks += [*rng.sample(long_courses, k=3), rng.choice(long_courses)]
        picks += [rng.choice(short_courses) for _ in range(total - len(picks))]
        weeks = [w for w in range(51) if w not in HOLIDAY_WEEKS]
        counters: dict[str, int] = {}
        for i, course in enumerate(picks):
            days = int(course["days"])
            blocks = blocks_for(days)
            span = blocks[-1][0]
            usable = [
                w for w in weeks if w + span <= 50 and all(w + b not in HOLIDAY_WEEKS for b, _ in blocks)
            ]
            # spread the campus's sessions evenly over the year, with a little jitter
            target = int(len(usable) * (i * 0.618034 % 1.0))
            week = usable[min(len(usable) - 1, max(0, target + rng.randint(-1, 1)))]
            longest = max(length for _, length in blocks)
            weekday = rng.randint(0, 5 - longest)
            counters[course["code"]] = counters.get(course["code"], 0) + 1
            code = f"{campus[:3].upper()}-{course['code']}-{counters[course['code']]:02d}"
            spec = ";".join(f"{offset}+{length}" for offset, length in blocks)
            rows.append([code, course["code"], campus, week, weekday, spec])
    rows.sort(key=lambda r: (r[3], r[4], r[0]))
    return rows


def main() -> None:
    write("dorm_rooms.csv", ["campus", "room_number", "floor", "kind", "zone", "accessible"], dorm_rooms())
    write("classrooms.csv", ["campus", "name", "seats"], classrooms())
    write("sessions.csv", ["code", "course", "campus", "week", "weekday", "blocks"], sessions())


if __name__ == "__main__":
    main()
