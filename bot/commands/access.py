"""Who may run which command, per ``access.rules`` in the config; and which folders are shown.

The policy: a command that no rule lists may be run by everyone. A command that rules list may
be run by a request that passes any one of those rules. A request passes a rule when the user is
one of its ``users`` or in one of its ``usergroups`` (a rule listing neither lets anyone through
this part) and, if the rule lists ``channels``, it comes from one of them. A rule that lists no
users, groups or channels lets nobody through: that is how a command is switched off.
A rule listing ``"*"`` as a command applies to every command.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

from bot.chat.mrkdwn import escape, mention
from bot.commands import strings as s
from bot.config import Access, AccessRule
from bot.errors import AccessDenied
from bot.i18n.catalog import _

#: How many users, groups or channels a refusal names before it says "and N more".
_NAMED = 5


class DenialReason(enum.StrEnum):
    WHO = "who"  # the user is not one of the listed users or groups
    WHERE = "where"  # the user is, but not in a listed channel
    NOBODY = "nobody"  # the rules let nobody run the command
    UNCONFIGURED = "unconfigured"  # a privileged command no rule grants to anyone


class CommandDenied(AccessDenied):
    """An access rule refused a command. ``str()`` is plain text; :func:`denial_text` also
    renders it as mrkdwn with real mentions (safe: refusals are ephemeral)."""

    def __init__(
        self,
        command: str,
        reason: DenialReason,
        *,
        users: Sequence[str] = (),
        usergroups: Sequence[str] = (),
        channels: Sequence[str] = (),
    ) -> None:
        self.command = command
        self.reason = reason
        self.users = tuple(users)
        self.usergroups = tuple(usergroups)
        self.channels = tuple(channels)
        super().__init__(denial_text(self, mrkdwn=False))


def _rule_applies(rule: AccessRule, command_name: str) -> bool:
    return command_name in rule.commands or "*" in rule.commands


def _who_matches(rule: AccessRule, user_id: str, user_groups: frozenset[str]) -> bool:
    if not rule.users and not rule.usergroups:
        return bool(rule.channels)  # a channel-only rule admits anyone in the channel
    return user_id in rule.users or not user_groups.isdisjoint(rule.usergroups)


def _where_matches(rule: AccessRule, channel_id: str) -> bool:
    return not rule.channels or channel_id in rule.channels


def _unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


#: Commands that change something in the cloud: allowed only to those a rule names, never by
#: default ("no rule: everyone may read" covers reading, snoozing, silencing and acknowledging;
#: a rule naming ``silence`` and ``unsilence`` limits them as one naming ``snooze`` does).
PRIVILEGED_COMMANDS = frozenset({"backup", "drill"})


def authorize(
    command_name: str,
    *,
    user_id: str,
    channel_id: str,
    user_groups: frozenset[str],
    access: Access,
) -> None:
    """Return if the request may run the command; raise :class:`CommandDenied` if not."""
    rules = [rule for rule in access.rules if _rule_applies(rule, command_name)]
    if not rules:
        if command_name in PRIVILEGED_COMMANDS:
            # Starting a backup loads a production cluster, a drill costs money: only people the
            # config names.
            raise CommandDenied(command_name, DenialReason.UNCONFIGURED)
        return
    who_ok = [rule for rule in rules if _who_matches(rule, user_id, user_groups)]
    if any(_where_matches(rule, channel_id) for rule in who_ok):
        return
    if who_ok:
        raise CommandDenied(
            command_name,
            DenialReason.WHERE,
            channels=_unique([c for rule in who_ok for c in rule.channels]),
        )
    users = _unique([u for rule in rules for u in rule.users])
    groups = _unique([g for rule in rules for g in rule.usergroups])
    if not users and not groups:
        raise CommandDenied(command_name, DenialReason.NOBODY)
    # Only name channels when every rule that names people also restricts the channel.
    people_rules = [rule for rule in rules if rule.users or rule.usergroups]
    channels = (
        _unique([c for rule in people_rules for c in rule.channels])
        if all(rule.channels for rule in people_rules)
        else []
    )
    raise CommandDenied(
        command_name, DenialReason.WHO, users=users, usergroups=groups, channels=channels
    )


def _names(items: list[str]) -> str:
    if len(items) > _NAMED:
        more = len(items) - _NAMED
        items = [*items[:_NAMED], s.and_more(more).format(n=more)]
    return s.join_words(items)


def denial_text(denied: CommandDenied, *, mrkdwn: bool) -> str:
    """Say why a command was refused: as plain text, or as mrkdwn with mentions."""
    if mrkdwn:
        users = [mention(escape(u)) for u in denied.users]
        groups = [_(s.ACCESS_GROUP).format(group=mention(escape(g))) for g in denied.usergroups]
        channels = [f"<#{escape(c)}>" for c in denied.channels]
        command = escape(denied.command).replace("`", "'")
    else:
        users = [s.ACCESS_USER.format(id=u) for u in denied.users]
        groups = [
            _(s.ACCESS_GROUP).format(group=s.ACCESS_USER.format(id=g)) for g in denied.usergroups
        ]
        channels = [s.ACCESS_CHANNEL.format(id=c) for c in denied.channels]
        command = denied.command.replace("`", "'")
    if denied.reason is DenialReason.NOBODY:
        return _(s.ACCESS_NOBODY).format(command=command)
    if denied.reason is DenialReason.UNCONFIGURED:
        return _(s.ACCESS_UNCONFIGURED).format(command=command)
    if denied.reason is DenialReason.WHERE:
        return _(s.ACCESS_ONLY_WHERE).format(command=command, where=_names(channels))
    who = _names(users + groups)
    if channels:
        return _(s.ACCESS_ONLY_WHO_WHERE).format(who=who, where=_names(channels), command=command)
    return _(s.ACCESS_ONLY_WHO).format(who=who, command=command)
