"""What the bot sends, as plain values: outbound posts, the verdicts on an attempt, the backoff.

Nothing the watcher says goes to Slack directly. Each message is first an :class:`OutboundPost`
written to the store's outbox in the same transaction as the state it follows from (an incident
opened, a digest run finished); the delivery executor sends it later, once, and records the
chat's answer. A post names its thread parent or the message it updates by *outbox id*, so a
reply can be queued before its parent is in the channel.

A :class:`Verdict` is what an attempt's answer means for the post, in words the executor acts
on: done, try again later (and whether the post may already be in the channel), refused for this
channel or for the whole token, or refused for its content (sent again as text only). The chat's
adapter alone reads its own answers into verdicts (``bot.slack.answers.judge`` for Slack).
"""

from __future__ import annotations

import base64
import enum
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.chat.card import Card, Chat

#: ``metadata.event_type`` of every message the bot posts; its payload carries the outbox id, so
#: that a post whose answer was lost can be found in the channel instead of posted again.
EVENT_TYPE = "backups_bot_post"


class PostKind(enum.StrEnum):
    ALERT = "alert"  # a new alert, top level
    ALERT_UPDATE = "alert_update"  # chat.update of an alert message
    REMINDER = "reminder"  # in an alert's (or a group's) thread
    RESOLVED = "resolved"  # in an alert's (or a group's) thread
    GROUP_ALERT = "group_alert"  # one post for a storm of alerts
    GROUP_UPDATE = "group_update"  # chat.update of a group's post
    GROUP_REPLY = "group_reply"  # the rest of a group's rows, joins and recoveries, in its thread
    DIGEST = "digest"  # a digest's top post
    DIGEST_PART = "digest_part"  # the rest of a digest, in its thread
    SELF_ALERT = "self_alert"  # the bot about itself: blind, or cannot post to a channel
    SELF_REPLY = "self_reply"  # its all-clear, in its thread
    OPERATION = "operation"  # what became of a backup someone started
    REPORT = "report"  # the monthly freshness report
    DRILL = "drill"  # a restore drill's result, or a leftover drill cluster deleted
    COVERAGE = "coverage"  # a cluster the bot starts or stops watching, in an alert route
    FILE = "file"  # a file shared in a thread (or a channel): a digest's table, a report

    @property
    def is_file(self) -> bool:
        return self == PostKind.FILE

    @property
    def is_update(self) -> bool:
        return self in (PostKind.ALERT_UPDATE, PostKind.GROUP_UPDATE)


class Method(enum.StrEnum):
    POST = "post"  # chat.postMessage: not idempotent; found by its metadata if in doubt
    UPDATE = "update"  # chat.update: idempotent, simply sent again


def new_post_id() -> str:
    """A fresh outbox id: stable for the post's life, carried in its Slack metadata."""
    return "p" + uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class OutboundPost:
    """One message to send, as planned: where, what, and in reply to (or in place of) what.

    ``parent_id`` is the outbox id of the thread parent (a post) or of the message to replace
    (an update); ``parent_ts`` names it by Slack ts instead, for messages posted before the
    outbox existed.
    """

    kind: PostKind
    channel: str
    payload: dict[str, Any]  # text and blocks, as the chat renders the card (chat.render)
    id: str = field(default_factory=new_post_id)
    parent_id: str | None = None
    parent_ts: str | None = None
    subject: str = ""  # what it is about (a cluster id, a group, a digest run), for logs

    @property
    def method(self) -> Method:
        return Method.UPDATE if self.kind.is_update else Method.POST

    @property
    def threaded(self) -> bool:
        return self.method == Method.POST and (self.parent_id or self.parent_ts) is not None

    def describe(self) -> str:
        """One line for a person: what, where, about what."""
        what = self.kind.value.replace("_", " ")
        where = self.channel + (" (in a thread)" if self.threaded else "")
        about = f" for {self.subject}" if self.subject else ""
        return f"{what}{about} in {where}"


def make_post(
    kind: PostKind,
    channel: str,
    card: Card,
    *,
    chat: Chat,
    subject: str,
    reason: str = "",
    parent: tuple[str | None, str | None] = (None, None),
    post_id: str | None = None,
) -> OutboundPost:
    """The one way a post is planned: ``card`` rendered for ``chat``, where it goes, in reply
    to (or in place of) what (``parent``: an outbox id, else a Slack ts from before the outbox),
    and what it is about (``reason``, why it is sent, joins the subject for the logs)."""
    parent_id, parent_ts = parent
    return OutboundPost(
        kind=kind,
        channel=channel,
        payload=chat.render(card),
        id=post_id or new_post_id(),
        parent_id=parent_id,
        parent_ts=parent_ts if parent_id is None else None,
        subject=f"{subject} [{reason}]" if reason else subject,
    )


@dataclass(frozen=True, slots=True)
class FileUpload:
    """A file a post shares: its name, the title people see, its bytes, and a line said with it.

    Kept whole in the outbox (its bytes base64 in the payload), so that a retry after a crash
    uploads the very same file.
    """

    filename: str
    title: str
    content: bytes
    comment: str = ""

    def payload(self) -> dict[str, Any]:
        """The outbox payload of a file post (``text``: what logs and a text-only retry say)."""
        return {
            "text": self.comment or self.title,
            "file": {
                "filename": self.filename,
                "title": self.title,
                "comment": self.comment,
                "content_b64": base64.b64encode(self.content).decode("ascii"),
            },
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> FileUpload:
        """The file of a payload made by :meth:`payload`."""
        file = payload["file"]
        return cls(
            filename=str(file["filename"]),
            title=str(file["title"]),
            content=base64.b64decode(file["content_b64"]),
            comment=str(file.get("comment") or ""),
        )

    def __repr__(self) -> str:
        # Never the bytes: a repr lands in logs and tracebacks.
        return f"FileUpload({self.filename!r}, {len(self.content)} bytes)"


def make_file_post(
    channel: str,
    upload: FileUpload,
    *,
    subject: str,
    parent: tuple[str | None, str | None] = (None, None),
    post_id: str | None = None,
) -> OutboundPost:
    """A post that shares ``upload`` in ``channel``, in the thread of ``parent`` (an outbox id,
    else a Slack ts) when given; delivered once, like every post (see :class:`FileUpload`)."""
    parent_id, parent_ts = parent
    return OutboundPost(
        kind=PostKind.FILE,
        channel=channel,
        payload=upload.payload(),
        id=post_id or new_post_id(),
        parent_id=parent_id,
        parent_ts=parent_ts if parent_id is None else None,
        subject=subject,
    )


class Verdict(enum.StrEnum):
    """What the answer to one attempt means for its post."""

    DONE = "done"
    #: Slack did not take it (429, or refused before doing anything): try again later.
    RETRY = "retry"
    #: The post may be in the channel (5xx, a timeout, a dropped connection): look for it first.
    IN_DOUBT = "in_doubt"
    #: The message itself was refused (too long, bad blocks): send it again as text only.
    CONTENT = "content"
    #: This channel refuses the bot (not a member, archived, gone): park the channel.
    CHANNEL = "channel"
    #: The token is refused everywhere (revoked, wrong): park every channel.
    AUTH = "auth"
    #: Nothing to do any more (the message to update is gone): give the post up.
    GONE = "gone"
    #: Not understood: retried a few times, then given up and reported.
    OTHER = "other"
    #: Looking for a post in doubt is impossible (the token may not read the channel's
    #: history): post it again, so it may appear twice.
    UNSEARCHABLE = "unsearchable"


#: Backoff of a post that is retried: 2 s, 4 s, 8 s ... up to 5 minutes.
RETRY_FIRST = timedelta(seconds=2)
RETRY_MAX = timedelta(minutes=5)
#: A post refused for reasons not understood is given up after this many attempts.
OTHER_ATTEMPTS = 3
#: How often a channel (or the token) that refused the bot is tried again.
PARKED_RETRY = timedelta(hours=1)


def retry_delay(attempts: int, retry_after: float | None = None) -> timedelta:
    """How long a post waits after its ``attempts``-th failed attempt; Slack's ``Retry-After``
    (seconds) wins when it is longer."""
    backoff = min(RETRY_FIRST * (1 << min(max(attempts - 1, 0), 16)), RETRY_MAX)
    if retry_after is not None and retry_after > backoff.total_seconds():
        return timedelta(seconds=min(retry_after, RETRY_MAX.total_seconds() * 12))
    return backoff
