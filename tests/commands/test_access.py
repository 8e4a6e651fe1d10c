"""Access policy: who may run which command, where; and which folders are shown."""

from __future__ import annotations

import pytest

from bot.commands.access import CommandDenied, DenialReason, authorize, denial_text
from bot.config import Access, AccessRule
from bot.errors import AccessDenied
from bot.fleet.match import folder_allowed

LEADS = AccessRule(
    commands=["backup", "snooze", "unsnooze"], users=["U0LEAD"], usergroups=["S0ONCALL"]
)
OPS_CHANNEL = AccessRule(commands=["backup"], usergroups=["S0OPS"], channels=["C0OPS"])
ANYONE_IN_OPS = AccessRule(commands=["status"], channels=["C0OPS"])
DISABLED = AccessRule(commands=["folder"])
USERS_ONLY = AccessRule(commands=["backup"], users=["U0LEAD", "U0DEPUTY"])
GROUPS_ONLY = AccessRule(commands=["backup"], usergroups=["S0ONCALL"])
EVERYTHING = AccessRule(commands=["*"], usergroups=["S0STAFF"])


def _check(
    command: str,
    access: Access,
    *,
    user: str = "U0SOMEONE",
    channel: str = "C0TEAM",
    groups: frozenset[str] = frozenset(),
) -> None:
    authorize(command, user_id=user, channel_id=channel, user_groups=groups, access=access)


@pytest.mark.parametrize(
    ("command", "rules", "user", "groups", "channel", "allowed"),
    [
        # no rule for a command: everyone may
        ("list", [], "U0SOMEONE", frozenset(), "C0TEAM", True),
        ("list", [LEADS], "U0SOMEONE", frozenset(), "C0TEAM", True),
        # listed users and groups
        ("backup", [LEADS], "U0LEAD", frozenset(), "C0TEAM", True),
        ("backup", [LEADS], "U0SOMEONE", frozenset({"S0ONCALL"}), "C0TEAM", True),
        ("backup", [LEADS], "U0SOMEONE", frozenset({"S0OTHER"}), "C0TEAM", False),
        ("snooze", [LEADS], "U0SOMEONE", frozenset(), "D0DM", False),
        # a rule naming only users admits exactly them, anywhere
        ("backup", [USERS_ONLY], "U0LEAD", frozenset(), "C0TEAM", True),
        ("backup", [USERS_ONLY], "U0DEPUTY", frozenset(), "D0DM", True),
        ("backup", [USERS_ONLY], "U0SOMEONE", frozenset({"S0ONCALL"}), "C0TEAM", False),
        # a rule naming only groups admits their members, and not a user of the same name
        ("backup", [GROUPS_ONLY], "U0X", frozenset({"S0OTHER", "S0ONCALL"}), "C0TEAM", True),
        ("backup", [GROUPS_ONLY], "S0ONCALL", frozenset(), "C0TEAM", False),
        # channels narrow a rule
        ("backup", [OPS_CHANNEL], "U0X", frozenset({"S0OPS"}), "C0OPS", True),
        ("backup", [OPS_CHANNEL], "U0X", frozenset({"S0OPS"}), "C0TEAM", False),
        ("backup", [OPS_CHANNEL], "U0X", frozenset(), "C0OPS", False),
        # any one rule suffices
        ("backup", [LEADS, OPS_CHANNEL], "U0LEAD", frozenset(), "C0TEAM", True),
        ("backup", [LEADS, OPS_CHANNEL], "U0X", frozenset({"S0OPS"}), "C0OPS", True),
        ("backup", [LEADS, OPS_CHANNEL], "U0X", frozenset({"S0OPS"}), "C0TEAM", False),
        # a channel-only rule admits anyone there
        ("status", [ANYONE_IN_OPS], "U0X", frozenset(), "C0OPS", True),
        ("status", [ANYONE_IN_OPS], "U0X", frozenset(), "C0TEAM", False),
        # a rule naming nobody switches the command off
        ("folder", [DISABLED], "U0LEAD", frozenset({"S0ONCALL"}), "C0OPS", False),
        # "*" applies to every command
        ("list", [EVERYTHING], "U0X", frozenset({"S0STAFF"}), "C0TEAM", True),
        ("get", [EVERYTHING], "U0X", frozenset(), "C0TEAM", False),
    ],
)
def test_access_matrix(
    command: str,
    rules: list[AccessRule],
    user: str,
    groups: frozenset[str],
    channel: str,
    allowed: bool,
) -> None:
    access = Access(rules=rules)
    if allowed:
        _check(command, access, user=user, groups=groups, channel=channel)
    else:
        with pytest.raises(AccessDenied):
            _check(command, access, user=user, groups=groups, channel=channel)


def test_a_refusal_names_who_may_run_the_command() -> None:
    with pytest.raises(CommandDenied) as info:
        _check("backup", Access(rules=[LEADS]))
    assert info.value.reason is DenialReason.WHO
    assert str(info.value) == "Only @U0LEAD or members of @S0ONCALL may run `backup`."
    assert denial_text(info.value, mrkdwn=True) == (
        "Only <@U0LEAD> or members of <!subteam^S0ONCALL> may run `backup`."
    )


def test_a_refusal_in_the_wrong_channel_names_the_channels() -> None:
    with pytest.raises(CommandDenied) as info:
        _check("backup", Access(rules=[OPS_CHANNEL]), groups=frozenset({"S0OPS"}))
    assert info.value.reason is DenialReason.WHERE
    assert str(info.value) == "`backup` may only be run in #C0OPS."
    assert denial_text(info.value, mrkdwn=True) == "`backup` may only be run in <#C0OPS>."


def test_a_refusal_names_channels_when_every_rule_restricts_them() -> None:
    with pytest.raises(CommandDenied) as info:
        _check("backup", Access(rules=[OPS_CHANNEL]))
    assert str(info.value) == "Only members of @S0OPS, in #C0OPS, may run `backup`."


def test_a_disabled_command_says_nobody_may_run_it() -> None:
    with pytest.raises(CommandDenied) as info:
        _check("folder", Access(rules=[DISABLED]))
    assert info.value.reason is DenialReason.NOBODY
    assert "Nobody may run `folder`" in str(info.value)


def test_a_long_list_of_people_is_shortened() -> None:
    rule = AccessRule(commands=["backup"], users=[f"U{i}" for i in range(9)])
    with pytest.raises(CommandDenied) as info:
        _check("backup", Access(rules=[rule]))
    assert str(info.value) == "Only @U0, @U1, @U2, @U3, @U4 or 4 more may run `backup`."


def test_ids_from_the_config_are_escaped_in_mrkdwn() -> None:
    rule = AccessRule(commands=["backup"], users=["U1><!channel"])
    with pytest.raises(CommandDenied) as info:
        _check("backup", Access(rules=[rule]))
    assert "<!channel" not in denial_text(info.value, mrkdwn=True)


@pytest.mark.parametrize(
    ("folder", "allowed", "expected"),
    [
        ("b1gA", [], True),
        ("b1gA", ["b1gA", "b1gB"], True),
        ("b1gC", ["b1gA", "b1gB"], False),
        ("", ["b1gA"], False),
    ],
)
def test_folder_allowed(folder: str, allowed: list[str], expected: bool) -> None:
    assert folder_allowed(folder, allowed) is expected


@pytest.mark.parametrize("command", ["list", "get", "clusters", "status", "snooze", "unsnooze"])
def test_with_no_rule_everyone_may_read_and_snooze(command: str) -> None:
    authorize(command, user_id="U1", channel_id="C1", user_groups=frozenset(), access=Access())


def test_with_no_rule_nobody_may_start_a_backup_and_is_told_how_to_allow_it() -> None:
    with pytest.raises(CommandDenied) as caught:
        authorize("backup", user_id="U1", channel_id="C1", user_groups=frozenset(), access=Access())
    assert caught.value.reason is DenialReason.UNCONFIGURED
    assert "add a rule with `commands: [backup]`" in str(caught.value)
    allowed = Access(rules=[AccessRule(commands=["backup"], usergroups=["S0ONCALL"])])
    authorize(
        "backup", user_id="U1", channel_id="C1", user_groups=frozenset({"S0ONCALL"}), access=allowed
    )


def test_a_refusal_by_a_users_only_rule_names_the_users() -> None:
    with pytest.raises(CommandDenied) as info:
        _check("backup", Access(rules=[USERS_ONLY]))
    assert info.value.reason is DenialReason.WHO
    assert info.value.users == ("U0LEAD", "U0DEPUTY")
    assert info.value.usergroups == ()
    assert str(info.value) == "Only @U0LEAD or @U0DEPUTY may run `backup`."


def test_a_refusal_names_no_channel_when_some_rule_admits_people_anywhere() -> None:
    with pytest.raises(CommandDenied) as info:
        _check("backup", Access(rules=[OPS_CHANNEL, USERS_ONLY]))
    assert info.value.channels == ()
    assert str(info.value) == "Only @U0LEAD, @U0DEPUTY or members of @S0OPS may run `backup`."


def test_a_refusal_names_each_person_once_however_many_rules_name_them() -> None:
    again = AccessRule(commands=["backup"], users=["U0LEAD"], usergroups=["S0ONCALL"])
    with pytest.raises(CommandDenied) as info:
        _check("backup", Access(rules=[LEADS, again, USERS_ONLY]))
    assert info.value.users == ("U0LEAD", "U0DEPUTY")
    assert info.value.usergroups == ("S0ONCALL",)


def test_a_refusal_in_the_wrong_channel_names_each_allowed_channel_once() -> None:
    other = AccessRule(commands=["backup"], usergroups=["S0OPS"], channels=["C0OPS", "C0SRE"])
    with pytest.raises(CommandDenied) as info:
        _check("backup", Access(rules=[OPS_CHANNEL, other]), groups=frozenset({"S0OPS"}))
    assert info.value.reason is DenialReason.WHERE
    assert info.value.channels == ("C0OPS", "C0SRE")
    assert str(info.value) == "`backup` may only be run in #C0OPS or #C0SRE."


def test_a_refusal_in_the_wrong_channel_names_only_the_channels_of_rules_that_admit_the_user() -> (
    None
):
    elsewhere = AccessRule(commands=["backup"], usergroups=["S0SRE"], channels=["C0SRE"])
    with pytest.raises(CommandDenied) as info:
        _check("backup", Access(rules=[OPS_CHANNEL, elsewhere]), groups=frozenset({"S0OPS"}))
    assert info.value.channels == ("C0OPS",)


def test_exactly_five_people_are_all_named() -> None:
    rule = AccessRule(commands=["backup"], users=[f"U{i}" for i in range(5)])
    with pytest.raises(CommandDenied) as info:
        _check("backup", Access(rules=[rule]))
    assert str(info.value) == "Only @U0, @U1, @U2, @U3 or @U4 may run `backup`."


def test_a_refusal_as_mrkdwn_mentions_people_and_channels() -> None:
    with pytest.raises(CommandDenied) as info:
        _check("backup", Access(rules=[OPS_CHANNEL]))
    assert denial_text(info.value, mrkdwn=True) == (
        "Only members of <!subteam^S0OPS>, in <#C0OPS>, may run `backup`."
    )


def test_a_backtick_in_the_command_cannot_break_the_code_span() -> None:
    rule = AccessRule(commands=["*"], users=["U0LEAD"])
    with pytest.raises(CommandDenied) as info:
        _check("a`b", Access(rules=[rule]))
    assert str(info.value) == "Only @U0LEAD may run `a'b`."
    assert denial_text(info.value, mrkdwn=True) == "Only <@U0LEAD> may run `a'b`."


def test_the_other_refusals_read_the_same_as_text_and_as_mrkdwn() -> None:
    for access, command in [(Access(rules=[DISABLED]), "folder"), (Access(), "backup")]:
        with pytest.raises(CommandDenied) as info:
            _check(command, access)
        assert denial_text(info.value, mrkdwn=True) == str(info.value)
        assert f"`{command}`" in str(info.value)
