"""The routes every plain resource has (list, create, read, update, delete), written once.

A plain resource is a table row edited as it is sent: references checked (a 422 naming
the field), uniqueness and references enforced by the database (409), PATCH touching only
the fields sent. Resources with more to do on a write (sealed secrets, stored window
rules) keep their own routes and use the helpers of ``api.crud``.

Endpoints are built with explicit signatures (no ``from __future__ import annotations``
here) so that FastAPI sees each resource's own body models and path parameter name, and
the OpenAPI document reads as if each route had been written by hand.
"""

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlmodel import Session, SQLModel, col, select

from api.crud import (
    CONFLICT,
    NOT_FOUND,
    Id,
    IdFilter,
    Limit,
    Offset,
    Page,
    apply,
    check_refs,
    delete,
    get_or_404,
    paginate,
    save,
    text_filter,
)
from api.deps import SessionDep
from api.security import Admin, Viewer

Refs = dict[str, tuple[type[SQLModel], int | None]]
Builder = Callable[["PlainResource"], Callable[..., Any]]


def _no_refs(body: BaseModel) -> Refs:
    return {}


@dataclass(frozen=True)
class PlainResource:
    """One table's API: ``noun`` names it in routes, errors and operation names."""

    noun: str
    model: type[SQLModel]
    out: type[BaseModel]
    create: type[BaseModel]
    update: type[BaseModel]
    refs: Callable[[Any], Refs] = _no_refs
    id_filters: tuple[str, ...] = ()
    """Columns the list filters on by id (``?vcenter_id=3``)."""
    text_filters: dict[str, int] = field(default_factory=dict)
    """Columns the list filters on by exact text, with the filter's maximum length."""

    @property
    def id_param(self) -> str:
        return f"{self.noun}_id"


def add_plain_routes(router: APIRouter, resource: PlainResource, *, reads: bool = True) -> None:
    """``reads=False`` leaves the list and ``GET /{id}`` to the router (a faster read path
    of its own)."""
    item, out = f"/{{{resource.id_param}}}", resource.out
    missing, either = NOT_FOUND, {**NOT_FOUND, **CONFLICT}

    def add(path: str, method: str, action: str, build: Builder, **options: Any) -> None:
        name = f"{action}_{resource.noun}"
        router.add_api_route(path, build(resource), methods=[method], name=name, **options)

    if reads:
        listing = Page[out]  # type: ignore[valid-type]
        router.add_api_route(
            "", _list_endpoint(resource), name=f"list_{resource.noun}s", response_model=listing
        )
        add(item, "GET", "get", _read_endpoint, response_model=out, responses=missing)
    add(
        "",
        "POST",
        "create",
        _create_endpoint,
        response_model=out,
        status_code=201,
        responses=CONFLICT,
    )
    add(item, "PATCH", "update", _update_endpoint, response_model=out, responses=either)
    add(item, "DELETE", "delete", _delete_endpoint, status_code=204, responses=either)


def _param(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default
    )


def _endpoint(call: Callable[..., Any], params: list[inspect.Parameter]) -> Callable[..., Any]:
    def endpoint(**kwargs: Any) -> Any:
        return call(**kwargs)

    endpoint.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return endpoint


def _list_endpoint(resource: PlainResource) -> Callable[..., Any]:
    filters = [_param(name, IdFilter, None) for name in resource.id_filters] + [
        _param(name, Annotated[str | None, text_filter(size)], None)
        for name, size in resource.text_filters.items()
    ]

    def list_rows(session: Session, _: object, limit: int, offset: int, **wanted: Any) -> Any:
        statement = select(resource.model).order_by(col(resource.model.id))  # type: ignore[attr-defined]
        for name, value in wanted.items():
            if value is not None:
                statement = statement.where(getattr(resource.model, name) == value)
        items, total = paginate(session, statement, limit, offset)
        return Page(
            items=[resource.out.model_validate(i) for i in items],
            total=total,
            limit=limit,
            offset=offset,
        )

    return _endpoint(
        list_rows,
        [
            _param("session", SessionDep),
            _param("_", Viewer),
            _param("limit", Limit, 100),
            _param("offset", Offset, 0),
            *filters,
        ],
    )


def _create_endpoint(resource: PlainResource) -> Callable[..., Any]:
    def create(body: BaseModel, session: Session, _: object) -> SQLModel:
        check_refs(session, resource.refs(body))
        return save(session, resource.model(**body.model_dump()))

    return _endpoint(
        create,
        [_param("body", resource.create), _param("session", SessionDep), _param("_", Admin)],
    )


def _read_endpoint(resource: PlainResource) -> Callable[..., Any]:
    def read(session: Session, _: object, **ident: int) -> SQLModel:
        return get_or_404(session, resource.model, ident[resource.id_param])

    return _endpoint(
        read,
        [_param(resource.id_param, Id), _param("session", SessionDep), _param("_", Viewer)],
    )


def _update_endpoint(resource: PlainResource) -> Callable[..., Any]:
    def update(body: BaseModel, session: Session, _: object, **ident: int) -> SQLModel:
        row = get_or_404(session, resource.model, ident[resource.id_param])
        check_refs(session, resource.refs(body))
        apply(row, body)
        return save(session, row)

    return _endpoint(
        update,
        [
            _param(resource.id_param, Id),
            _param("body", resource.update),
            _param("session", SessionDep),
            _param("_", Admin),
        ],
    )


def _delete_endpoint(resource: PlainResource) -> Callable[..., Any]:
    def remove(session: Session, _: object, **ident: int) -> None:
        delete(session, get_or_404(session, resource.model, ident[resource.id_param]))

    return _endpoint(
        remove,
        [_param(resource.id_param, Id), _param("session", SessionDep), _param("_", Admin)],
    )
