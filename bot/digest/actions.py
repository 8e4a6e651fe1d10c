"""The digest view's button: the Next page of ``status`` (its value is shared with ``clusters``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.chat.actions import Action, BadButtonValue, JsonCodec, check_cluster_id
from bot.commands import strings

#: The furthest row a status or clusters Next page button may start at.
MAX_PAGE_OFFSET = 1_000_000


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


VIEW_PAGE_CODEC = JsonCodec(_write_view_page, _read_view_page)

STATUS_NEXT_PAGE: Action[ViewPage] = Action(
    "status_next_page", strings.BUTTON_NEXT_PAGE, "status", VIEW_PAGE_CODEC
)

ACTIONS: tuple[Action[Any], ...] = (STATUS_NEXT_PAGE,)
