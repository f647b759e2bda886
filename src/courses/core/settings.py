"""Settings read from the environment, with defaults that suit a developer's machine."""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[3]
VAR_DIR = Path(os.environ.get("COURSES_VAR_DIR", PROJECT_ROOT / "var"))
TEMPLATES_DIR = PROJECT_ROOT / "templates"
STATIC_DIR = TEMPLATES_DIR / "static"
SEEDS_DIR = PROJECT_ROOT / "seeds"
REGISTRATION_NUMBER = re.compile(r"T[0-9]{13}")
EVENT_LOOPS = ("asyncio", "uvloop")


def _default_database_url() -> str:
    return f"sqlite+aiosqlite:///{VAR_DIR / 'courses.core.db'}"


def _secret_key() -> str:
    """Read SECRET_KEY, or keep a random one under var/ so that restarts keep sessions valid."""
    value = os.environ.get("SECRET_KEY")
    if value:
        return value
    path = VAR_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return value


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Pools:
    """How many database connections and threads the process keeps."""

    # aiosqlite runs a thread per connection: a few connections shared by many requests beat dozens
    # of threads fighting over the GIL (writers are serialised anyway).
    sqlite_pool_size: int = 4
    # threads with their own SQLite connection for the reads every API request makes (token sign-in)
    sqlite_read_threads: int = 2
    # PostgreSQL: the async engine's pool and its overflow
    pg_pool_size: int = 20
    pg_max_overflow: int = 10
    # PostgreSQL connections that enrollment and token sign-in run on directly (core/tx.py); 0 runs
    # them through the async engine instead
    pg_direct_pool_size: int = 10

    @classmethod
    def from_env(cls) -> Pools:
        return cls(
            sqlite_pool_size=int(os.environ.get("SQLITE_POOL_SIZE", "4")),
            sqlite_read_threads=int(os.environ.get("SQLITE_READ_THREADS", "2")),
            pg_pool_size=int(os.environ.get("PG_POOL_SIZE", "20")),
            pg_max_overflow=int(os.environ.get("PG_MAX_OVERFLOW", "10")),
            pg_direct_pool_size=int(os.environ.get("PG_DIRECT_POOL_SIZE", "10")),
        )


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment."""

    database_url: str = field(default_factory=_default_database_url)
    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str = field(default_factory=_secret_key)
    # Cookies are marked Secure when the site is served over HTTPS (production); a developer's
    # http://127.0.0.1 would otherwise never get them back.
    secure_cookies: bool = False
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "no-reply@sme-univ.example"
    debug: bool = False
    # uvicorn's access log (the benchmarks turn it off)
    access_log: bool = True
    # The event loop uvicorn serves on. The standard library's serves connections in turn when the
    # process is saturated; uvloop's let a few wait ten times the median (catalog p99 200-400 ms
    # against 30 ms at 64 connections, for the same throughput: docs/benchmarks.md).
    event_loop: str = "asyncio"
    # the catalog page as rendered for visitors not signed in is reused for this long (it is dropped
    # at the first write to the database anyway); 0 turns it off
    catalog_cache_s: float = 2.0
    pools: Pools = field(default_factory=Pools)
    # The web process solves in a worker pool of this size (0 disables the in-process worker).
    solver_workers: int = 1
    # A running solver run whose instance has not refreshed its heartbeat for this long is taken
    # over by another instance (at least three heartbeat intervals, i.e. 15 s).
    solver_stale_after_s: float = 60.0
    # 適格請求書: the issuer's registration number (T + 13 digits), the account invoices name and
    # the days from issue to the payment due date.
    invoice_registration_number: str = "T1234567890123"
    invoice_issuer: str = "独立行政法人中小企業基盤整備機構 中小企業大学校"
    invoice_bank_account: str = "みずほ銀行 虎ノ門支店 普通 1234567 チュウショウキギョウダイガッコウ"
    invoice_due_days: int = 30
    # the address people reach the service at, for links in mail sent without a request (reminders);
    # empty: http://HOST:PORT
    site_url: str = ""
    # the service queues the reminders due (issue #18) this often; 0 leaves it to `send-reminders`
    reminder_interval_s: float = 600.0
    # the school's name printed on certificates of completion (修了証書)
    school_name: str = "独立行政法人中小企業基盤整備機構 中小企業大学校"

    def __post_init__(self) -> None:
        if self.event_loop not in EVENT_LOOPS:
            raise ValueError(f"EVENT_LOOP must be one of {', '.join(EVENT_LOOPS)}, not {self.event_loop!r}")
        if not REGISTRATION_NUMBER.fullmatch(self.invoice_registration_number):
            raise ValueError(
                f"INVOICE_REGISTRATION_NUMBER must be T followed by 13 digits, not {self.invoice_registration_number!r}"
            )

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=os.environ.get("DATABASE_URL") or _default_database_url(),
            host=os.environ.get("HOST", "127.0.0.1"),
            port=int(os.environ.get("PORT", "8000")),
            secure_cookies=_bool("SECURE_COOKIES", False),
            smtp_host=os.environ.get("SMTP_HOST") or None,
            smtp_port=int(os.environ.get("SMTP_PORT", "25")),
            smtp_from=os.environ.get("SMTP_FROM", "no-reply@sme-univ.example"),
            debug=_bool("DEBUG", False),
            access_log=_bool("ACCESS_LOG", True),
            event_loop=os.environ.get("EVENT_LOOP", "asyncio").strip().lower(),
            catalog_cache_s=float(os.environ.get("CATALOG_CACHE_S", "2")),
            pools=Pools.from_env(),
            solver_workers=int(os.environ.get("SOLVER_WORKERS", "1")),
            solver_stale_after_s=float(os.environ.get("SOLVER_STALE_AFTER_S", "60")),
            invoice_registration_number=os.environ.get("INVOICE_REGISTRATION_NUMBER", "T1234567890123"),
            invoice_issuer=os.environ.get("INVOICE_ISSUER", cls.invoice_issuer),
            invoice_bank_account=os.environ.get("INVOICE_BANK_ACCOUNT", cls.invoice_bank_account),
            invoice_due_days=int(os.environ.get("INVOICE_DUE_DAYS", "30")),
            site_url=os.environ.get("SITE_URL", ""),
            reminder_interval_s=float(os.environ.get("REMINDER_INTERVAL_S", "600")),
            school_name=os.environ.get("SCHOOL_NAME", cls.school_name),
        )

    @property
    def base_url(self) -> str:
        """Where the service is reached, for links in mail that no request asked for."""
        return (self.site_url or f"http://{self.host}:{self.port}").rstrip("/")
