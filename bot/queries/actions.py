"""The Next page buttons of ``list``, ``status`` and ``clusters``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.chat.actions import Action, BadButtonValue, JsonCodec, check_cluster_id
from bot.cloud.models import ListPosition
from bot.cloud.validation import MAX_PAGE_TOKEN_LENGTH
from bot.commands import strings
from bot.commands.grammar import MAX_LIMIT, MIN_LIMIT

#: The furthest row a status or clusters Next page button may start at.
MAX_PAGE_OFFSET = 1_000_000


@dataclass(frozen=True)
class ListPage:
    """Where a cluster's list goes on: after ``after`` (None for a button of the older format,
    which carried the cloud's page token: the list starts again from the newest), ``limit`` a
    page."""

    cluster_id: str
    after: ListPosition | None
    limit: int


def _write_list_page(page: ListPage) -> dict[str, Any]:
    assert page.after is not None  # buttons of the older format are only ever read
    return {"c": page.cluster_id, "p": page.after.encode(), "l": page.limit}


def _read_list_page(data: dict[str, Any]) -> ListPage:
    cluster_id = check_cluster_id(data.get("c"))
    limit = data.get("l")
    if isinstance(limit, bool) or not isinstance(limit, int) or not MIN_LIMIT <= limit <= MAX_LIMIT:
        raise BadButtonValue()
    if "p" in data:
        encoded = data["p"]
        position = ListPosition.decode(encoded) if isinstance(encoded, str) else None
        if position is None:
            raise BadButtonValue()
        return ListPage(cluster_id, position, limit)
    token = data.get("t")
    if not isinstance(token, str) or not token or len(token) > MAX_PAGE_TOKEN_LENGTH:
        raise BadButtonValue()
    return ListPage(cluster_id, None, limit)


@dataclass(frozen=True)
class ViewPage:
    """What a status or clusters view was asked for (a cluster or folder; None: everything
    watched) and the row its next page starts at."""

    target: str | None
    offset: int


def _write_view_page(page: ViewPage) -> dict[str, Any]:
    return {"t": page.target, "o": page.offset}


def _read_view_page(data: dict[str, Any]) -> ViewPage:
    target, offset = data.get("t"), data.get("o")
    if target is not None:
        target = check_cluster_id(target)  # names allow the same characters as ids
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 < offset <= MAX_PAGE_OFFSET:
        raise BadButtonValue()
    return ViewPage(target, offset)


LIST_PAGE_CODEC = JsonCodec(_write_list_page, _read_list_page)
VIEW_PAGE_CODEC = JsonCodec(_write_view_page, _read_view_page)

LIST_NEXT_PAGE: Action[ListPage] = Action(
    "list_next_page", strings.BUTTON_NEXT_PAGE, "list", LIST_PAGE_CODEC
)
STATUS_NEXT_PAGE: Action[ViewPage] = Action(
    "status_next_page", strings.BUTTON_NEXT_PAGE, "status", VIEW_PAGE_CODEC
)
CLUSTERS_NEXT_PAGE: Action[ViewPage] = Action(
    "clusters_next_page", strings.BUTTON_NEXT_PAGE, "clusters", VIEW_PAGE_CODEC
)

ACTIONS: tuple[Action[Any], ...] = (LIST_NEXT_PAGE, STATUS_NEXT_PAGE, CLUSTERS_NEXT_PAGE)
