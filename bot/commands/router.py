"""One ``/backups`` command (or one button click) in, one reply out.

The router is what Slack's handlers, ``backups-bot exec`` and the demo share. It parses the text
with the grammar, checks the access rules and the rate limits, and hands the command or the click
to the feature that answers it: each feature lists its command routes and its bound buttons
(:class:`Feature`), and the router knows nothing else of them. It turns every failure into a
message through :func:`~bot.commands.messages.render_error` and never raises: a typed error is
answered with what went wrong and what to do; anything else with a short id that is also logged
with its traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from bot.chat.actions import Action, Answer, BoundAction, Invocation
from bot.chat.card import Card
from bot.commands import messages as rc
from bot.commands import strings
from bot.commands.access import authorize
from bot.commands.grammar import (
    BackupCmd,
    ClustersCmd,
    Command,
    FolderCmd,
    GetCmd,
    HelpCmd,
    ListCmd,
    SnoozeCmd,
    StatusCmd,
    UnsnoozeCmd,
    parse_command,
)
from bot.commands.ratelimit import CommandLimiter, SlowDown
from bot.config import BotConfig
from bot.errors import AccessDenied, BotError, UsageError
from bot.i18n.catalog import N_, _, supported_locale, use_locale
from bot.ops.logging import new_request_id, request_id_var

if TYPE_CHECKING:
    from bot.ops.metrics import Metrics

log = logging.getLogger(__name__)

C = TypeVar("C")

WATCHER_OFF = N_(
    "`{command}` needs the bot's watcher, which is not running here. "
    "Ask in the channel where the bot is deployed, or run `backups-bot serve` with a config."
)
UNKNOWN_BUTTON = N_("I don't know the button `{action}`.")


@dataclass(frozen=True, eq=False)
class CommandRoute(Generic[C]):
    """A command of the grammar and the handler that answers it (``reaches_cloud``: whether it
    counts against the rate limits)."""

    kind: type[C]
    handler: Callable[[C, Invocation, datetime], Awaitable[Answer]]
    reaches_cloud: bool = True


class Feature(Protocol):
    """What a feature offers the router: the commands it answers and its buttons."""

    def commands(self) -> Iterable[CommandRoute[Any]]: ...

    def actions(self) -> Iterable[BoundAction]: ...


@dataclass(frozen=True)
class Reply:
    """What to answer: messages in order, to the asker only (``ephemeral``) or to the channel.

    ``replace_original`` asks a button's reply to replace the message that carried the button.
    """

    messages: list[Card]
    ephemeral: bool = True
    ok: bool = True
    usage_error: bool = False
    replace_original: bool = False
    correlation_id: str | None = None


class WatcherUnavailable(BotError):
    """A command was asked of a process that runs no feature answering it (no watcher)."""


class TooFast(UsageError):
    """A person or a channel went over the rate limit; answered, not queued."""

    def __init__(self, slow: SlowDown) -> None:
        per = (
            strings.SLOW_DOWN_USER_HINT if slow.scope == "user" else strings.SLOW_DOWN_CHANNEL_HINT
        )
        super().__init__(
            _(strings.SLOW_DOWN).format(seconds=slow.retry_after),
            hint=_(per).format(limit=slow.limit),
        )
        self.slow = slow


async def _help(command: HelpCmd, inv: Invocation, now: datetime) -> Answer:
    return Answer([rc.render_help(command.topic)])


class Router:
    """Runs commands and button clicks through the features that answer them; never raises."""

    def __init__(
        self,
        config: BotConfig,
        features: Iterable[Feature] = (),
        *,
        declared: Iterable[Action[Any]] = (),
        metrics: Metrics | None = None,
        limiter: CommandLimiter | None = None,
    ) -> None:
        self.config = config
        self.metrics = metrics
        #: Per-user and per-channel limits of this process (config ``limits``).
        self.limiter = limiter or CommandLimiter(
            user_per_minute=config.limits.user_per_minute,
            channel_per_minute=config.limits.channel_per_minute,
        )
        self._commands: dict[type[Any], CommandRoute[Any]] = {
            HelpCmd: CommandRoute(HelpCmd, _help, reaches_cloud=False)
        }
        self._actions: dict[str, BoundAction] = {}
        #: Every button the bot makes, answered here or not (a process without the watcher
        #: still says why it cannot answer an alert's button).
        self._declared: dict[str, Action[Any]] = {action.id: action for action in declared}
        for feature in features:
            for route in feature.commands():
                if route.kind in self._commands:
                    raise ValueError(f"two features answer {route.kind.__name__}")
                self._commands[route.kind] = route
            for bound in feature.actions():
                if bound.action.id in self._actions:
                    raise ValueError(f"two features answer the button {bound.action.id}")
                self._actions[bound.action.id] = bound
                self._declared.setdefault(bound.action.id, bound.action)

    # --- what handlers need to know ------------------------------------------------------------

    @property
    def action_ids(self) -> tuple[str, ...]:
        """Every button id the bot makes; the chat listens for exactly these."""
        return tuple(self._declared)

    @property
    def answered_ids(self) -> tuple[str, ...]:
        """The button ids a feature of this process answers (the rest say they need it)."""
        return tuple(self._actions)

    def candidate_groups(self) -> frozenset[str]:
        """User groups named by access rules: the only ones worth asking Slack about."""
        return frozenset(g for rule in self.config.access.rules for g in rule.usergroups)

    # --- commands and clicks -------------------------------------------------------------------

    def locale_for(self, inv: Invocation) -> str:
        """The language to answer ``inv`` in: the asker's if the bot speaks it, else the
        channel's route's, else the bot's."""
        return supported_locale(inv.locale) or self.config.channel_locale(inv.channel_id)

    async def run(self, text: str, inv: Invocation, *, now: datetime) -> Reply:
        """Run the command ``text`` (what follows ``/backups``) for ``inv``; always a reply, in
        the asker's language."""
        with use_locale(self.locale_for(inv)):
            return await self._run(text, inv, now=now)

    async def _run(self, text: str, inv: Invocation, *, now: datetime) -> Reply:
        name = "unknown"
        subject: str | None = None
        try:
            command = parse_command(text)
            name = command.name
            subject = _subject_of(command)
            self._authorize(name, inv)
            route = self._commands.get(type(command))
            if route is None or route.reaches_cloud:
                self._limit(inv, now)
            if route is None:
                raise WatcherUnavailable(_(WATCHER_OFF).format(command=name))
            answer = await route.handler(command, inv, now)
        except Exception as exc:  # the router answers everything; cancellation passes
            return self._failure(exc, name, inv, subject=subject)
        self._count(name, "ok")
        return _reply(answer)

    async def run_action(
        self, action_id: str, value: str, inv: Invocation, *, now: datetime
    ) -> Reply:
        """Answer a button click, in the clicker's language; a value the bot did not render is
        refused with a message."""
        with use_locale(self.locale_for(inv)):
            return await self._run_action(action_id, value, inv, now=now)

    async def _run_action(
        self, action_id: str, value: str, inv: Invocation, *, now: datetime
    ) -> Reply:
        action = self._declared.get(action_id)
        name = f"button:{action_id}" if action is not None else "button:unknown"
        try:
            if action is None:
                raise UsageError(_(UNKNOWN_BUTTON).format(action=action_id[:100]))
            self._authorize(action.command, inv)
            if action.reaches_cloud:
                self._limit(inv, now)
            bound = self._actions.get(action_id)
            if bound is None:
                raise WatcherUnavailable(_(WATCHER_OFF).format(command=action.command))
            answer = await bound.run(value, inv, now)
        except Exception as exc:  # the router answers everything; cancellation passes
            return self._failure(exc, name, inv, subject=None)
        self._count(name, "ok")
        return _reply(answer)

    # --- plumbing ------------------------------------------------------------------------------

    def _authorize(self, command: str, inv: Invocation) -> None:
        try:
            authorize(
                command,
                user_id=inv.user_id,
                channel_id=inv.channel_id,
                user_groups=inv.user_groups,
                access=self.config.access,
            )
        except AccessDenied as exc:
            log.warning(
                "access denied: user %s in channel %s may not run %s: %s",
                inv.user_id,
                inv.channel_id,
                command,
                exc,
                extra={"user_id": inv.user_id, "channel_id": inv.channel_id, "command": command},
            )
            raise

    def _limit(self, inv: Invocation, now: datetime) -> None:
        """Count a command that reaches the cloud; over a limit, refuse it (raise TooFast)."""
        slow = self.limiter.admit(inv.user_id, inv.channel_id, now)
        if slow is not None:
            log.info(
                "slowed down user %s in channel %s: over %d a minute per %s; retry in %d s",
                inv.user_id,
                inv.channel_id,
                slow.limit,
                slow.scope,
                slow.retry_after,
            )
            raise TooFast(slow)

    def _failure(self, exc: Exception, name: str, inv: Invocation, *, subject: str | None) -> Reply:
        if isinstance(exc, TooFast):
            self._count(name, "limited")
            return Reply([rc.render_error(exc)], ok=False)
        if isinstance(exc, UsageError):
            self._count(name, "usage_error")
            return Reply([rc.render_error(exc)], ok=False, usage_error=True)
        if isinstance(exc, AccessDenied):
            self._count(name, "denied")
            return Reply([rc.render_error(exc)], ok=False)
        if isinstance(exc, BotError):
            self._count(name, "error")
            log.info("%s failed for user %s: %r", name, inv.user_id, exc)
            return Reply([_safe_render(exc, subject=subject)], ok=False)
        correlation_id = _correlation_id()
        self._count(name, "error")
        log.error(
            "unexpected error in %s (error id %s)",
            name,
            correlation_id,
            exc_info=exc,
            extra={"error_id": correlation_id},
        )
        return Reply(
            [_safe_render(exc, correlation_id=correlation_id)],
            ok=False,
            correlation_id=correlation_id,
        )

    def _count(self, name: str, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.count_command(name, outcome)


def _reply(answer: Answer) -> Reply:
    return Reply(
        answer.messages, ephemeral=answer.ephemeral, replace_original=answer.replace_original
    )


def _correlation_id() -> str:
    bound = request_id_var.get()
    return bound if bound and bound != "-" else new_request_id()


def _safe_render(
    exc: BaseException, *, correlation_id: str | None = None, subject: str | None = None
) -> Card:
    try:
        return rc.render_error(exc, correlation_id=correlation_id, subject=subject)
    except Exception:  # a renderer bug must still not leave the person without an answer
        log.exception("render_error failed")
        cid = correlation_id or _correlation_id()
        return Card(_("Something went wrong on my side (error id {id}).").format(id=cid))


def _subject_of(command: Command) -> str | None:
    """What a NotFound reply says could not be found, in plain text."""
    if isinstance(command, ListCmd):
        return _("cluster `{id}`").format(id=command.cluster)
    if isinstance(command, GetCmd):
        return _("backup `{id}`").format(id=command.backup_id)
    if isinstance(command, FolderCmd):
        return _("folder `{id}`").format(id=command.folder_id)
    if isinstance(command, SnoozeCmd | UnsnoozeCmd | BackupCmd):
        return _("cluster `{id}`").format(id=command.cluster)
    if isinstance(command, StatusCmd) and command.target:
        return f"`{command.target}`"
    if isinstance(command, ClustersCmd) and command.folder_id:
        return _("folder `{id}`").format(id=command.folder_id)
    return None
