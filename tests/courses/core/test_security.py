"""``link_base``: the address links in mail and on printed pages start with."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from courses.core.security import link_base


def _request(site_url: str, base_url: str = "http://testserver/") -> SimpleNamespace:
    settings = SimpleNamespace(site_url=site_url)
    return SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(settings=settings)), base_url=base_url)


@pytest.mark.parametrize(
    ("site_url", "expected"),
    [
        ("https://courses.example.jp", "https://courses.example.jp"),
        ("https://courses.example.jp/", "https://courses.example.jp"),
        ("", "http://testserver"),  # development: the request's own address
    ],
)
def test_the_site_address_has_no_slash_at_its_end(site_url: str, expected: str) -> None:
    assert link_base(_request(site_url)) == expected


def test_a_forged_host_never_reaches_a_link_when_the_site_is_configured() -> None:
    assert link_base(_request("https://courses.example.jp", base_url="http://evil.example/")) == (
        "https://courses.example.jp"
    )
