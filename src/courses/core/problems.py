"""One place that turns errors into responses: problem+json for the API, a page for browsers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Redirect, Template
from litestar.utils.scope.state import ScopeState

from courses.core import bodies, i18n
from courses.core.db_outage import database_unavailable, exception_chain, outage_log
from courses.core.errors import DomainError, FieldError

log = logging.getLogger(__name__)
PROBLEM_BASE = "https://sme-univ.example/problems/"
RETRY_AFTER_S = {429: 30, 503: 5}  # when to try again: after a throttled sign-in, after an outage


@dataclass
class ProblemField:
    """One bad field (or one row and column of an uploaded file)."""

    field: str
    message: str
    row: int | None = None


@dataclass
class Problem:
    """How the API answers every error: RFC 9457 problem details, in the caller's language."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[ProblemField] | None = None


# The problems an API operation can answer, by who may call it and whether it changes anything.
PROBLEMS_OF_EVERY_OPERATION = {
    400: "入力内容に誤りがあります / Invalid input",
    404: "見つかりません / Not found",
    503: "データベースに接続できません（Retry-After） / Database unreachable (Retry-After)",
}
PROBLEMS_OF_SIGNED_IN = {
    401: "ログインが必要です / Authentication required",
    403: "許可されていません / Not allowed",
}
PROBLEMS_OF_CHANGES = {
    409: "現在の状態では実行できません / Conflict with the current state",
    422: "お申し込みいただけません・取り込めません / Not eligible or not importable",
}
PROBLEMS_OF_SIGN_IN = {
    401: "メールアドレスまたはパスワードが正しくありません / Wrong email or password",
    429: "試行回数が多すぎます（Retry-After） / Too many attempts (Retry-After)",
}


def document_problems(app: Any) -> None:
    """Declare in the OpenAPI document the problem responses each API operation can give, so that
    clients (and the schema fuzzing of ``make fuzz``) know every status and content type."""
    for route in app.routes:
        if not route.path.startswith("/api/") and route.path != "/health":
            continue  # the HTML pages are not in the document
        for handler in route.route_handlers:
            methods = set(getattr(handler, "http_methods", ()))
            statuses = dict(PROBLEMS_OF_EVERY_OPERATION)
            if handler.opt.get("access") != "public":
                statuses |= PROBLEMS_OF_SIGNED_IN
            if methods - {"GET", "HEAD", "OPTIONS"}:
                statuses |= PROBLEMS_OF_CHANGES
            if route.path.startswith("/api/auth/"):
                statuses |= PROBLEMS_OF_SIGN_IN
            specs = {
                code: ResponseSpec(
                    data_container=Problem,
                    media_type="application/problem+json",
                    description=text,
                    generate_examples=False,
                )
                for code, text in statuses.items()
            }
            handler.responses = {**specs, **(handler.responses or {})}


def request_language(request: Request[Any, Any, Any]) -> str:
    """'en' when the caller chose English (the ``lang`` cookie of the pages) or prefers it over
    Japanese (Accept-Language), else 'ja' (the site speaks Japanese first). An HTML page answers in
    the language of the page (``i18n.current``), which is Japanese on the staff's pages."""
    if wants_html(request):
        return i18n.current()
    return i18n.choose(request.cookies.get(i18n.COOKIE), request.headers.get("accept-language", ""))


def wants_html(request: Request[Any, Any, Any]) -> bool:
    if request.url.path.startswith("/api/") or request.url.path in {"/health", "/schema"}:
        return False
    return "text/html" in request.headers.get("accept", "") or request.method == "POST"


def problem_response(
    request: Request[Any, Any, Any],
    *,
    status: int,
    slug: str,
    title: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response[Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if errors:
        body["errors"] = errors
    if extra:
        body.update(extra)
    retry_after = (extra or {}).get("retry_after") or RETRY_AFTER_S.get(status)
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    if wants_html(request):
        return Template(
            template_name="error.html",
            context={"status": status, "title": title, "detail": detail, "errors": errors or []},
            status_code=status,
            headers=headers,
        )
    return Response(content=body, status_code=status, media_type="application/problem+json", headers=headers)


def domain_error_handler(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    lang = request_language(request)
    return problem_response(
        request,
        status=exc.status,
        slug=exc.slug,
        title=exc.title(lang),
        detail=exc.detail(lang),
        errors=[e.as_dict(lang) for e in exc.errors],
        extra=exc.extra,
    )


def _body_type(request: Request[Any, Any, Any]) -> Any:
    """The Struct the route decodes its body into, if any (to name a refused field in Japanese)."""
    try:
        field = request.route_handler.parsed_fn_signature.parameters.get("data")
    except AttributeError:
        return None
    return getattr(field, "annotation", None)


def _validation_errors(request: Request[Any, Any, Any], exc: ValidationException) -> list[FieldError]:
    out: list[FieldError] = []
    body_type = _body_type(request)
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            key = str(item.get("key") or "body")
            msg = str(item.get("message", ""))
            if item.get("source") not in (None, "body") and key != "data":
                out.append(FieldError(key, f"{key}: 値が正しくありません（{msg}）", f"{key}: {msg}"))
                continue
            name, ja, en = bodies.explain(body_type, key, msg)
            out.append(FieldError(name, ja, en))
    raw = ScopeState.from_scope(request.scope).body
    today = request.app.state.clock().date()
    return bodies.every_error(body_type, raw if isinstance(raw, bytes) else b"", today, out)


def _bad_body(request: Request[Any, Any, Any], lang: str, *, encoding: bool = False) -> Response[Any]:
    if encoding:
        detail = (
            "The request body is not valid UTF-8 text."
            if lang == "en"
            else "リクエスト本文の文字コードが正しくありません。UTF-8で送ってください。"
        )
    else:
        detail = (
            "The request body is not valid JSON."
            if lang == "en"
            else "リクエスト本文が正しいJSONではありません。"
        )
    title = "Invalid input" if lang == "en" else "入力内容に誤りがあります"
    return problem_response(request, status=400, slug="invalid-body", title=title, detail=detail)


def unicode_error_handler(request: Request[Any, Any, Any], exc: UnicodeDecodeError) -> Response[Any]:
    return _bad_body(request, request_language(request), encoding=True)


def _invalid(request: Request[Any, Any, Any], slug: str, detail_ja: str, detail_en: str) -> Response[Any]:
    """A 400 problem response in the caller's language."""
    lang = request_language(request)
    return problem_response(
        request,
        status=400,
        slug=slug,
        title="Invalid input" if lang == "en" else "入力内容に誤りがあります",
        detail=detail_en if lang == "en" else detail_ja,
    )


def overflow_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A number beyond what the database stores (an id of 25 digits in the URL, say)."""
    return _invalid(
        request,
        "invalid-input",
        "リクエスト中の数値が大きすぎます。",
        "A number in the request is too large.",
    )


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    lang = request_language(request)
    if isinstance(exc, NotAuthorizedException) and wants_html(request) and request.method == "GET":
        from urllib.parse import quote

        # the query too: a check-in link (/me/check-in?t=...) opened before signing in still works after
        query = f"?{request.url.query}" if request.url.query else ""
        return Redirect(f"/login?next={quote(request.url.path + query)}")
    if isinstance(exc, ValidationException):
        errors = _validation_errors(request, exc)
        malformed = "JSON" in (exc.detail or "") or "decode" in (exc.detail or "").lower()
        detail = (
            ("The request body is not valid JSON." if malformed else "Some fields are missing or invalid.")
            if lang == "en"
            else (
                "リクエスト本文が正しいJSONではありません。"
                if malformed
                else "入力内容に不足または誤りがあります。"
            )
        )
        title = "Invalid input" if lang == "en" else "入力内容に誤りがあります"
        return problem_response(
            request,
            status=400,
            slug="invalid-input",
            title=title,
            detail=detail,
            errors=[e.as_dict(lang) for e in errors],
        )
    table: dict[type[HTTPException], tuple[str, str, str, str]] = {
        NotFoundException: ("not-found", "見つかりません", "Not found", "お探しのページは見つかりません。"),
        MethodNotAllowedException: (
            "method-not-allowed",
            "この方法では利用できません",
            "Method not allowed",
            "このURLはこの方法（HTTPメソッド）では利用できません。",
        ),
        NotAuthorizedException: (
            "unauthorized",
            "ログインが必要です",
            "Authentication required",
            "ログインしてください。",
        ),
        PermissionDeniedException: (
            "forbidden",
            "この操作は許可されていません",
            "Not allowed",
            "この操作を行う権限がありません。",
        ),
    }
    for cls, (slug, title_ja, title_en, detail_ja) in table.items():
        if isinstance(exc, cls):
            detail = (exc.detail or title_en) if lang == "en" else detail_ja
            response = problem_response(
                request,
                status=exc.status_code,
                slug=slug,
                title=title_en if lang == "en" else title_ja,
                detail=detail,
            )
            response.headers.update(exc.headers or {})  # the methods a 405 allows
            return response
    if exc.status_code == 400 and "json" in request.headers.get("content-type", "").lower():
        # the body could not be decoded: truncated, not JSON, or (msgspec 0.23 and later say so
        # here instead of raising UnicodeDecodeError) not UTF-8
        encoding = "utf-8" in str(exc.detail or "").lower()
        return _bad_body(request, lang, encoding=encoding)
    title = "Request failed" if lang == "en" else "リクエストを処理できませんでした"
    return problem_response(
        request, status=exc.status_code, slug="http-error", title=title, detail=str(exc.detail or title)
    )


def recursion_error_handler(request: Request[Any, Any, Any], exc: RecursionError) -> Response[Any]:
    """A JSON body nested deeper than the decoder follows (``[[[[...``) is the caller's error;
    any other runaway recursion is ours."""
    if "deserializing" not in str(exc):
        return internal_error_handler(request, exc)
    return _invalid(
        request,
        "invalid-body",
        "リクエスト本文のJSONの入れ子が深すぎます。",
        "The JSON body is nested too deeply.",
    )


def unavailable_response(request: Request[Any, Any, Any], exc: BaseException) -> Response[Any]:
    outage_log.note(exc, "answering 503")
    lang = request_language(request)
    return problem_response(
        request,
        status=503,
        slug="unavailable",
        title="Service unavailable" if lang == "en" else "ただいま利用できません",
        detail=(
            "The database cannot be reached. Nothing was changed; please try again shortly."
            if lang == "en"
            else "データベースに接続できません。処理は行われていません。しばらくしてから再度お試しください。"
        ),
    )


def database_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Bad input that only the database noticed (PostgreSQL ids are 32-bit) is the caller's error;
    an unreachable database is a 503; anything else the database says is ours."""
    for cause in exception_chain(exc):
        if isinstance(cause, OverflowError) or "out of int32 range" in str(cause):
            return overflow_handler(request, exc)
    return internal_error_handler(request, exc)


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if database_unavailable(exc):
        return unavailable_response(request, exc)
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    lang = request_language(request)
    return problem_response(
        request,
        status=500,
        slug="internal-error",
        title="Internal error" if lang == "en" else "システムエラー",
        detail=(
            "Something went wrong on our side. Nothing was changed; please try again."
            if lang == "en"
            else "システム側で問題が発生しました。処理は行われていません。時間をおいて再度お試しください。"
        ),
    )


__all__ = ["MediaType", "domain_error_handler", "http_exception_handler", "internal_error_handler"]
