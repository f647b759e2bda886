"""``python -m courses create-user``: staff, administrators and coordinators are made from the CLI."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from sqlmodel import select

from courses.accounts.service import EMAIL_RE, MIN_PASSWORD, hash_password, normalize_email
from courses.core.clock import japan_now
from courses.core.db import Database
from courses.core.settings import Settings
from courses.models import Campus, Role, StaffCampus, User, id_of


async def create_user(settings: Settings, args: argparse.Namespace) -> int:
    email = normalize_email(args.email)
    if not EMAIL_RE.match(email):
        print(f"create-user: '{args.email}' is not an email address", file=sys.stderr)
        return 2
    password = args.password or os.environ.get("COURSES_PASSWORD") or getpass.getpass("password: ")
    if len(password) < MIN_PASSWORD:
        print(f"create-user: the password needs at least {MIN_PASSWORD} characters", file=sys.stderr)
        return 2
    if args.role == "staff" and not args.campus:
        print("create-user: staff need at least one --campus", file=sys.stderr)
        return 2
    db = Database.connect(settings.database_url, settings.pools)
    try:
        password_hash = await hash_password(password)
        async with db.write() as s:
            if (await s.exec(select(User.id).where(User.email == email))).first() is not None:
                print(f"create-user: {email} already exists", file=sys.stderr)
                return 1
            campuses = []
            for code in args.campus:
                campus = (await s.exec(select(Campus).where(Campus.code == code))).first()
                if campus is None:
                    print(f"create-user: unknown campus '{code}'", file=sys.stderr)
                    return 2
                campuses.append(campus)
            user = User(
                email=email,
                password_hash=password_hash,
                name=args.name,
                role=Role(args.role),
                created_at=japan_now(),
                email_verified_at=japan_now(),  # an administrator vouches for the address
            )
            s.add(user)
            await s.flush()
            for campus in campuses:
                s.add(StaffCampus(user_id=id_of(user), campus_id=id_of(campus)))
        print(f"create-user: {args.role} {email} created")
        return 0
    finally:
        await db.dispose()
