"""What the delivery executor needs of a chat: post, replace a post, find a post by its outbox id.

The executor depends on this small interface, not on a chat's client: ``bot/slack/notifier.py``
implements it for Slack, and a second chat would be a second implementation beside it. A call
that does not surely succeed raises :class:`SendFailure` with a neutral
:class:`~bot.outbox.posts.Verdict`; what the chat's own error codes mean is the adapter's
knowledge (``bot/slack/answers.py``), never the executor's.
"""

from __future__ import annotations

from typing import Any, Protocol

from bot.outbox.posts import FileUpload, Verdict


class SendFailure(Exception):
    """An attempt that did not surely succeed: its ``verdict``, the chat's ``code`` for logs and
    the outbox's error column, the seconds the chat asked to wait (``retry_after``), and a
    ``hint`` for a person when the fix is on their side. Never a token, a URL or a body."""

    def __init__(
        self,
        verdict: Verdict,
        code: str,
        *,
        retry_after: float | None = None,
        hint: str = "",
    ) -> None:
        super().__init__(f"{code} ({verdict.value})")
        self.verdict = verdict
        self.code = code
        self.retry_after = retry_after
        self.hint = hint


class Sender(Protocol):
    """One attempt per call: retrying is the executor's decision, since an answer lost after the
    chat posted does not mean it did not post."""

    async def deliver_post(
        self,
        channel: str,
        payload: dict[str, Any],
        *,
        post_id: str,
        thread_ts: str | None = None,
        text_only: bool = False,
    ) -> str:
        """Post ``payload`` (its text alone if ``text_only``) to ``channel``, in the thread of
        ``thread_ts`` if given, marked with ``post_id`` so that :meth:`find_post` can find it;
        the message's ts."""
        ...

    async def deliver_update(
        self, channel: str, ts: str, payload: dict[str, Any], *, text_only: bool = False
    ) -> None:
        """Replace the message at ``ts`` (idempotent: safe to repeat)."""
        ...

    async def find_post(
        self, channel: str, post_id: str, *, since: float, thread_ts: str | None = None
    ) -> str | None:
        """The ts of the message marked with ``post_id`` posted after ``since`` (Unix seconds),
        in the thread of ``thread_ts`` if given; None when it is not there."""
        ...

    async def deliver_file(
        self, channel: str, upload: FileUpload, *, thread_ts: str | None = None
    ) -> str:
        """Share ``upload`` in ``channel`` (in the thread of ``thread_ts`` if given); an id of
        the share (its message ts when the chat says it, else the file's id)."""
        ...

    async def find_file(
        self, channel: str, upload: FileUpload, *, since: float, thread_ts: str | None = None
    ) -> str | None:
        """The ts of the message that shared a file of ``upload``'s name and title after
        ``since`` (in the thread of ``thread_ts`` if given); None when it is not there."""
        ...
