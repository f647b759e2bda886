"""What every response carries: security headers (a CSP without inline code), the client's address
as the server saw it, and an access log that never prints a URL's secret.

Who may call what is decided by ``courses.accounts.guards``."""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar.connection import ASGIConnection


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The peer's address, as the server saw it (a forwarding proxy's header is not trusted)."""
    return connection.client.host if connection.client else "unknown"


# Sent with every response. The pages' own script is /static/site.js and their styles site.css: no
# inline script or style is allowed, so injected markup cannot run. The OpenAPI viewers under
# /schema are Litestar's, which load ReDoc/Swagger from a CDN with inline code: they get a policy
# that admits exactly that, and still cannot be framed.
_COMMON_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
]
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SCHEMA_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https://cdn.jsdelivr.net; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)


def security_headers(app: Any) -> Any:
    """ASGI middleware: the security headers on every HTTP response, errors and static files included."""

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        policy = (SCHEMA_CSP if scope.get("path", "").startswith("/schema") else CSP).encode()

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in _COMMON_HEADERS if n not in present]
                if b"content-security-policy" not in present:
                    extra.append((b"content-security-policy", policy))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware


# Secrets a URL may still carry: the calendar feed's (a calendar app needs a plain address) and the
# token of a set-password link in its older ?token= form. The access log never shows them.
_URL_SECRET = re.compile(r"(/calendar/|[?&]token=)[^/?&.\s\"]+")


def mask_url_secrets(text: str) -> str:
    return _URL_SECRET.sub(lambda m: m.group(1) + "***", text)


class MaskSecretsInAccessLog(logging.Filter):
    """A filter for uvicorn's access logger: the request line's secrets are replaced by ***."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(mask_url_secrets(a) if isinstance(a, str) else a for a in record.args)
        return True


def link_base(request: Any) -> str:
    """The site's address for links in mail and on printed pages: ``SITE_URL`` when it is set, so a
    forged ``Host`` header can never send someone's secret link to another site; the request's own
    address otherwise (development). No slash at its end: callers append ``/path``."""
    site: str = request.app.state.settings.site_url or str(request.base_url)
    return site.rstrip("/")
