"""The Next page buttons of ``list`` and ``clusters``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.chat.actions import Action, BadButtonValue, JsonCodec, check_cluster_id
from bot.cloud.models import ListPosition
from bot.cloud.validation import MAX_PAGE_TOKEN_LENGTH
from bot.commands import strings
from bot.commands.grammar import MAX_LIMIT, MIN_LIMIT
from bot.digest.actions import VIEW_PAGE_CODEC, ViewPage


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


LIST_PAGE_CODEC = JsonCodec(_write_list_page, _read_list_page)

LIST_NEXT_PAGE: Action[ListPage] = Action(
    "list_next_page", strings.BUTTON_NEXT_PAGE, "list", LIST_PAGE_CODEC
)
CLUSTERS_NEXT_PAGE: Action[ViewPage] = Action(
    "clusters_next_page", strings.BUTTON_NEXT_PAGE, "clusters", VIEW_PAGE_CODEC
)

ACTIONS: tuple[Action[Any], ...] = (LIST_NEXT_PAGE, CLUSTERS_NEXT_PAGE)
