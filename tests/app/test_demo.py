"""``backups-bot demo``: a real subprocess, typed at through a pipe, as a newcomer would."""

from __future__ import annotations

import contextlib
import ctypes
import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable

SCRIPT = "\n".join(
    [
        "help",
        "clusters",
        "list search-prod-eu --limit 2",
        "lsit search-prod-eu",
        ":sweep",
        ":sweep",
        ":ack search-prod-asia",
        ":click Snooze 4 h",
        "backup search-prod-asia",
        ":click Start backup",
        ":digest",
        "",
    ]
)


def _demo(stdin: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "YC_", "DATABASE"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--no-color"],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def test_the_demo_answers_commands_and_shows_the_scheduled_posts() -> None:
    done = _demo(SCRIPT)
    out = done.stdout
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in out + done.stderr
    # A realistic fleet: three folders, thirty clusters, with the problems the demo promises.
    assert "with 3 folders and 30 clusters" in out
    assert "never backed up" in out
    assert "payments-audit" in out
    assert "could not be read" in out
    assert "stopped" in out
    # Commands answer as Slack would render them, only to the asker.
    assert "(only visible to you)" in out
    assert "[Next page]" in out
    assert "Did you mean" in out or "did you mean" in out
    # The first sweep queues alerts mentioning on-call with buttons (the demo delivers them at
    # once); the second queues none.
    sweeps = [line for line in out.splitlines() if line.startswith("-- sweep:")]
    assert len(sweeps) == 2
    assert "0 alert(s) queued" not in sweeps[0]
    assert "0 alert(s) queued" in sweeps[1]
    assert "FIRING* @oncall" in out
    # Why: a failed backup attempt named in the alert, a DEAD cluster said first, and the
    # digest's warning of a backup that would not fit a restore.
    assert "The last backup attempt, " in out
    assert "failed: Snapshot failed: [yc-managed-backups]" in out
    assert "cluster is DEAD: backups cannot run" in out
    assert "would not fit a cluster of this shape" in out
    assert "[Acknowledge] [Snooze 4 h] [Snooze 24 h] [List backups] [Start backup now]" in out
    # Acknowledge updates the alert in place; the digest is posted to the team channel.
    assert "#oncall (updated in place):" in out
    assert "ACKNOWLEDGED* by @you" in out
    assert "#team-search (posted):" in out
    assert "Backups digest" in out
    # Buttons are pressed with :click: a snooze from the alert, a backup after its confirmation.
    assert "SNOOZED* until" in out
    assert "Start a backup of *search-prod-asia*" in out
    assert "Started a backup of `search-prod-asia` (operation " in out


def test_the_demo_exits_cleanly_on_end_of_input() -> None:
    done = _demo("")
    assert done.returncode == 0
    assert "Traceback" not in done.stdout + done.stderr


#: tgkill(2), which sends a signal to one thread of a process (Python has no call for it).
_SYS_TGKILL = {"x86_64": 234, "aarch64": 131}


def _ctrl_c_at_the_prompt(interrupt: Callable[[int, int], None]) -> None:
    """Start the demo on a real terminal (a pty), where the console blocks reading a line;
    at its prompt, ``interrupt(pid, fd)``; it must exit 0 without a traceback."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: become the demo (SIGABRT makes it print where it is stuck)
        os.environ["PYTHONFAULTHANDLER"] = "1"
        os.execv(sys.executable, [sys.executable, "-m", "bot", "demo"])  # noqa: S606
    seen = b""
    try:
        # The prompt is the last thing the demo writes before it waits for a line (the banner
        # before it names /backups too).
        deadline = time.monotonic() + 60
        while not seen.endswith(b"\n/backups ") and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.5)[0]:
                seen += os.read(fd, 65536)
        assert seen.endswith(b"\n/backups "), seen[-500:]
        interrupt(pid, fd)
        deadline = time.monotonic() + 30
        status = None
        while status is None and time.monotonic() < deadline:
            done, code = os.waitpid(pid, os.WNOHANG)
            if done:
                status = code
            elif select.select([fd], [], [], 0.2)[0]:
                with contextlib.suppress(OSError):
                    seen += os.read(fd, 65536)
        if status is None:  # show where it is stuck: faulthandler prints every thread's stack
            os.kill(pid, signal.SIGABRT)
            with contextlib.suppress(OSError):
                while select.select([fd], [], [], 2.0)[0]:
                    seen += os.read(fd, 65536)
        assert status is not None, f"the demo did not exit after Ctrl-C: {seen[-4000:]!r}"
        assert os.waitstatus_to_exitcode(status) == 0
        assert b"Traceback" not in seen
    finally:
        with contextlib.suppress(ChildProcessError, ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)


def test_the_demo_exits_cleanly_on_ctrl_c_at_its_prompt() -> None:
    _ctrl_c_at_the_prompt(lambda pid, fd: os.write(fd, b"\x03"))  # as the terminal sends it


def test_the_demo_exits_cleanly_on_ctrl_c_pressed_again_while_it_winds_down() -> None:
    def twice(pid: int, fd: int) -> None:
        os.write(fd, b"\x03")
        os.write(fd, b"\x03")

    _ctrl_c_at_the_prompt(twice)


def test_a_ctrl_c_that_lands_on_another_thread_of_the_demo_ends_it_too() -> None:
    """The kernel hands a process's SIGINT to any of its threads that does not block it; one
    that lands on the stdin reader or aiosqlite's worker must wake the idle loop all the same
    (before the fix, the demo hung at its prompt, under load, one run in a few)."""
    machine = os.uname().machine
    assert machine in _SYS_TGKILL, f"no tgkill number known for {machine}"
    libc = ctypes.CDLL(None, use_errno=True)

    def to_the_other_threads(pid: int, fd: int) -> None:
        others = [int(t) for t in os.listdir(f"/proc/{pid}/task") if int(t) != pid]
        assert others, "the demo runs no thread besides its main one"
        for tid in others:
            assert libc.syscall(_SYS_TGKILL[machine], pid, tid, signal.SIGINT) == 0

    _ctrl_c_at_the_prompt(to_the_other_threads)


def test_the_demos_drill_restores_reports_and_leaves_nothing_running() -> None:
    done = _demo("drill search-prod-eu\n:click Cancel\n:drill search-prod-eu\n")
    out = done.stdout
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in out + done.stderr
    # Asked by command: the cost first, and nothing made on Cancel.
    assert "host-hours" in out
    assert "Restore drill not started." in out
    # Run from the console: restored, healthy, deleted, and posted in the team channel.
    (line,) = [line for line in out.splitlines() if line.startswith("-- drill: passed")]
    assert "restored in" in line
    assert line.endswith("deleted")
    assert "Restore drill of *search-prod-eu* passed" in out


def test_a_new_folder_is_announced_once_by_the_next_sweep() -> None:
    done = _demo("\n".join([":sweep", ":newfolder", ":sweep", ":sweep", ""]))
    out = done.stdout
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in out + done.stderr
    assert "-- newfolder: folder team-search" in out
    # Said once, in on-call's channel (the cluster is PRODUCTION), by the sweep after it.
    assert out.count("Now watching `search-eu` in folder `team-search`") == 1
    assert "its newest backup is" in out


def test_the_home_tab_and_clicks_by_message_number_or_cluster_with_slacks_confirm() -> None:
    done = _demo(
        "\n".join(
            [
                ":sweep",
                ":home",
                # On the Home tab (the newest message naming it): answered on the tab.
                ":click search-prod-asia Snooze 4 h",
                # A list asked from the tab goes to the app's direct message.
                ":click traces-prod List backups",
                # By the message's number: the first alert, in #oncall.
                ":click 1 Acknowledge",
                # A button Slack asks about first: the question, then n cancels, y confirms.
                ":click traces-prod Start backup now",
                "n",
                ":click traces-prod Start backup now",
                "y",
                ":click 99 Acknowledge",
                "",
            ]
        )
    )
    out = done.stdout
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in out + done.stderr
    # Every message shown has its number; the tab too.
    assert "\n[1] #oncall (posted):" in out
    assert "Home tab of @you (opened):" in out
    assert "Backups: your on-call view" in out
    assert "*The fleet:* 30 clusters watched" in out
    assert "last sweep" in out
    assert "Open incidents on every route* (4)" in out
    # The snooze pressed on the tab is said on the tab, published anew, and listed as mine.
    assert "Home tab of @you (published anew after the click):" in out
    assert "Snoozed alerts for `search-prod-asia`" in out or "Snoozed the alert" in out
    assert "*Your snoozes* (1)" in out
    assert "[Unsnooze]" in out
    assert "direct message to @you (posted):" in out
    assert "The full answer is in the bot's Messages tab." in out
    # Message 1 by its number: acknowledged, updated in place under the same number.
    assert "[1] #oncall (updated in place):" in out
    assert "ACKNOWLEDGED* by @you" in out
    # Slack's question before a backup starts: cancelled, then confirmed.
    assert out.count("-- Slack asks first: Start a backup now?") == 2
    assert "-- cancelled: the button did nothing" in out
    assert "Started a backup of `traces-prod`" in out
    assert "no button '99 Acknowledge'" in out
