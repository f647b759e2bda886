"""The request's session by dependency injection: ``writing`` is one transaction for the whole
request, committed after the handler and rolled back when it raises; ``reading`` reads."""

from __future__ import annotations

from litestar import Litestar, get, post
from litestar._kwargs import KwargsModel
from litestar.datastructures import State
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient
from sqlmodel import select

from courses.accounts.guards import USER_DEPENDENCY
from courses.app import create_app
from courses.core.db import Database
from courses.core.deps import DB, DEPENDENCIES, Reading, Writing, after_commit, undone_on_error
from courses.core.settings import Settings
from courses.models import Category


@post("/add/{code:str}", status_code=201)
async def add(writing: Writing, code: FromPath[str]) -> dict[str, str]:
    writing.add(Category(code=code, name_ja="分類", name_en="category"))
    await writing.flush()
    return {"code": code}


@post("/add-then-fail/{code:str}")
async def add_then_fail(writing: Writing, code: FromPath[str]) -> None:
    writing.add(Category(code=code, name_ja="分類", name_en="category"))
    await writing.flush()
    raise ValueError("refused after writing")


@post("/add-or-refuse/{code:str}")
async def add_or_refuse(writing: Writing, code: FromPath[str]) -> dict[str, str]:
    """A page's way: a refusal caught after something was written answers without committing it."""
    writing.add(Category(code=f"{code}-kept", name_ja="分類", name_en="category"))
    try:
        async with undone_on_error(writing):
            writing.add(Category(code=code, name_ja="分類", name_en="category"))
            await writing.flush()
            raise ValueError("refused")
    except ValueError:
        return {"answer": "refused"}


@post("/add-beside/{code:str}", status_code=201)
async def add_beside(writing: Writing, db: DB, code: FromPath[str]) -> dict[str, str]:
    """Two dependencies: Litestar resolves them together in a task group, so ``writing`` is opened
    in a task of its own and closed in the request's."""
    writing.add(Category(code=code, name_ja="分類", name_en="category"))
    await writing.flush()
    if code.startswith("fail"):
        raise ValueError("refused after writing")
    return {"code": code}


COMMITTED: list[str] = []


@post("/add-and-tell/{code:str}", status_code=201)
async def add_and_tell(writing: Writing, code: FromPath[str]) -> None:
    """``after_commit`` runs once the transaction has committed, never when it rolls back; by the
    time it runs, another session reads what was written."""
    writing.add(Category(code=code, name_ja="分類", name_en="category"))
    await writing.flush()
    after_commit(writing, lambda: COMMITTED.append(code))
    assert COMMITTED == []  # not before the commit
    if code.startswith("fail"):
        raise ValueError("refused after writing")


@get("/codes")
async def codes(reading: Reading) -> list[str]:
    return list(await reading.exec(select(Category.code).order_by(Category.code)))


async def test_a_write_commits_with_the_response_and_a_failure_rolls_back(db: Database) -> None:
    app = Litestar(
        route_handlers=[add, add_then_fail, add_or_refuse, add_beside, add_and_tell, codes],
        dependencies={**DEPENDENCIES, **USER_DEPENDENCY},
        state=State({"db": db}),
    )
    async with AsyncTestClient(app=app) as client:
        assert (await client.post("/add/kept")).status_code == 201
        assert (await client.post("/add-then-fail/lost")).status_code == 500
        assert (await client.get("/codes")).json() == ["kept"]
        # the failed request's transaction is gone, not left holding the write lock
        assert (await client.post("/add/after")).status_code == 201
        assert (await client.get("/codes")).json() == ["after", "kept"]
        # a refusal caught inside the request: the savepoint's writes are undone, the rest committed
        assert (await client.post("/add-or-refuse/undone")).json() == {"answer": "refused"}
        assert (await client.get("/codes")).json() == ["after", "kept", "undone-kept"]
        # beside another dependency the transaction behaves the same, and frees the write lock
        assert (await client.post("/add-beside/beside")).status_code == 201
        assert (await client.post("/add-beside/fail-beside")).status_code == 500
        assert (await client.post("/add/last")).status_code == 201
        assert (await client.get("/codes")).json() == ["after", "beside", "kept", "last", "undone-kept"]
        # what follows the commit outside the database runs after it, and only when it happens
        assert (await client.post("/add-and-tell/fail-told")).status_code == 500
        assert COMMITTED == []
        assert (await client.post("/add-and-tell/told")).status_code == 201
        assert COMMITTED == ["told"] and "told" in (await client.get("/codes")).json()


def _handlers(settings: Settings) -> list[tuple[HTTPRouteHandler, KwargsModel]]:
    app = create_app(settings)
    return [
        pair
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for pair in route.route_handler_map.values()
    ]


def test_no_handler_resolves_its_dependencies_in_a_task_group(settings: Settings) -> None:
    """Litestar resolves dependencies that do not depend on each other together, in a task group,
    which costs about 0.1 ms a request (measured on the development machine) and opens the
    transaction in a task of its own. The session's providers take the caller, so a handler that
    takes both resolves them one after the other; and a handler takes one of ``db``, ``reading``
    and ``writing``."""
    together = [
        f"{handler} {sorted(d.key for d in batch)}"
        for handler, model in _handlers(settings)
        for batch in model.dependency_batches
        if len(batch) > 1
    ]
    assert together == []
    handlers = _handlers(settings)
    assert sum("user" in h.parsed_fn_signature.parameters for h, _ in handlers) > 100  # the check saw them


def test_the_signed_in_caller_is_taken_only_where_the_guard_requires_one(settings: Settings) -> None:
    """``CurrentUser`` is never ``None`` because the guard refuses anonymous callers first; a public
    route takes ``MaybeUser``."""
    wrong = [
        str(handler)
        for handler, _ in _handlers(settings)
        if (field := handler.parsed_fn_signature.parameters.get("user")) is not None
        and not field.is_optional
        and handler.opt.get("access") == "public"
    ]
    assert wrong == []
    optional = [
        h
        for h, _ in _handlers(settings)
        if (f := h.parsed_fn_signature.parameters.get("user")) and f.is_optional
    ]
    assert optional and all(h.opt.get("access") == "public" for h in optional)
