"""Settings read from the environment, and how they reach uvicorn."""

from __future__ import annotations

import pytest
import uvicorn

from courses.cli import uvicorn_options
from courses.core.settings import Settings


def _loop_module(settings: Settings) -> str:
    """The module of the event loop uvicorn would serve on with these settings."""
    config = uvicorn.Config(lambda: None, **uvicorn_options(settings))
    factory = config.get_loop_factory()
    assert factory is not None
    loop = factory()
    try:
        return type(loop).__module__
    finally:
        loop.close()


def test_the_service_serves_on_the_standard_event_loop_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    monkeypatch.delenv("EVENT_LOOP", raising=False)
    settings = Settings.from_env()
    assert settings.event_loop == "asyncio"
    assert _loop_module(settings).startswith("asyncio.")

    monkeypatch.setenv("EVENT_LOOP", " uvloop ")
    settings = Settings.from_env()
    assert settings.event_loop == "uvloop"
    assert _loop_module(settings).startswith("uvloop")


def test_an_unknown_event_loop_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    monkeypatch.setenv("EVENT_LOOP", "tokio")
    with pytest.raises(ValueError, match="EVENT_LOOP must be one of asyncio, uvloop, not 'tokio'"):
        Settings.from_env()
