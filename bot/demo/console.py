"""A Slack message payload as terminal text, the way Slack would show it.

Used by the demo console and ``backups-bot exec``. Handles the blocks the bot sends (header,
section with text, fields and an accessory, context, divider, actions, image) and decodes
mrkdwn: entities, links, mentions, dates and emoji; ``*bold*`` is kept as typed, or shown in
ANSI bold with ``color=True``.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from bot.commands import strings as s
from bot.i18n.catalog import _

_BOLD = "\x1b[1m"
_DIM = "\x1b[2m"
_ITALIC = "\x1b[3m"
_CYAN = "\x1b[36m"
_RESET = "\x1b[0m"

_ANGLE = re.compile(r"<([^<>\n]*)>")
_BOLD_SPAN = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])")
_ITALIC_SPAN = re.compile(r"(?<![\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_EMOJI = re.compile(r":([a-z0-9_+-]+):")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

#: The emoji the bot uses, so the console shows a picture and not ``:red_circle:``.
EMOJI = {
    "white_check_mark": "✅",
    "red_circle": "🔴",
    "x": "❌",
    "grey_question": "❔",
    "double_vertical_bar": "⏸",
    "calendar": "📅",
    "warning": "⚠️",
    "no_entry": "⛔",
    "cloud": "☁️",
    "boom": "💥",
    "rotating_light": "🚨",
    "bell": "🔔",
    "thread": "🧵",
    "page_facing_up": "📄",
    "zzz": "💤",
    "eyes": "👀",
    "large_green_circle": "🟢",
    "large_yellow_circle": "🟡",
    "hourglass": "⌛",
    "floppy_disk": "💾",
    "wrench": "🔧",
    "alarm_clock": "⏰",
    "envelope": "✉️",
    "test_tube": "🧪",
    "no_bell": "🔕",
    "arrow_forward": "▶️",
}


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _named(ident: str, label: str, names: Mapping[str, str], sigil: str) -> str:
    name = names.get(ident) or label or ident
    name = _unescape(name)
    return name if name.startswith(sigil) else sigil + name


def _angle(match: re.Match[str], names: Mapping[str, str]) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith("!date^"):
        if label:
            return _unescape(label)
        parts = target.split("^")
        try:
            return datetime.fromtimestamp(int(parts[1]), UTC).strftime("%Y-%m-%d %H:%M UTC")
        except (IndexError, ValueError, OverflowError, OSError):
            return _unescape(inner)
    if target.startswith("!subteam^"):
        return _named(target.removeprefix("!subteam^"), label, names, "@")
    if target.startswith("!"):
        return "@" + (label or target[1:])
    if target.startswith("@"):
        return _named(target[1:], label, names, "@")
    if target.startswith("#"):
        return _named(target[1:], label, names, "#")
    url = _unescape(target).removeprefix("mailto:")
    if not label:
        return url
    label = _unescape(label)
    return label if label == url else f"{label} ({url})"


def decode_mrkdwn(text: str, *, names: Mapping[str, str] | None = None, color: bool = False) -> str:
    """Turn Slack mrkdwn into what a reader sees: links, mentions, dates and entities decoded."""
    names = names or {}
    if color:
        text = _CODE_SPAN.sub(lambda m: f"{_CYAN}{m.group(1)}{_RESET}", text)
        text = _BOLD_SPAN.sub(lambda m: f"{_BOLD}{m.group(1)}{_RESET}", text)
        text = _ITALIC_SPAN.sub(lambda m: f"{_ITALIC}{m.group(1)}{_RESET}", text)
    text = _EMOJI.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)
    # Control sequences are the only raw < > left; everything else is an entity until here.
    text = _ANGLE.sub(lambda m: _angle(m, names), text)
    return _unescape(text)


def _visible_len(text: str) -> int:
    return len(_ANSI.sub("", text))


def _wrap(text: str, width: int, indent: str = "") -> list[str]:
    out: list[str] = []
    for line in text.split("\n"):
        if not line.strip():
            out.append("")
            continue
        if _visible_len(line) + len(indent) <= width:
            out.append(indent + line)
            continue
        out.extend(
            textwrap.wrap(
                line,
                width=max(10, width),
                initial_indent=indent,
                subsequent_indent=indent,
                break_long_words=True,
                break_on_hyphens=False,
            )
            or [indent]
        )
    return out


def _wrap_items(items: list[str], width: int) -> list[str]:
    """Lay out buttons left to right, starting a new line rather than splitting one."""
    lines: list[str] = []
    for item in items:
        if lines and _visible_len(lines[-1]) + 1 + _visible_len(item) <= width:
            lines[-1] += " " + item
        else:
            lines.append(item)
    return lines


def _text_of(obj: Any, names: Mapping[str, str], color: bool) -> str:
    """The text of a text object (mrkdwn or plain_text), decoded."""
    if not isinstance(obj, Mapping):
        return ""
    raw = str(obj.get("text", ""))
    if obj.get("type") == "mrkdwn":
        return decode_mrkdwn(raw, names=names, color=color)
    return raw


def _element(el: Any, names: Mapping[str, str], color: bool) -> str:
    if not isinstance(el, Mapping):
        return ""
    kind = el.get("type")
    if kind == "button":
        return f"[{_text_of(el.get('text'), names, color)}]"
    if kind in ("static_select", "external_select", "overflow", "users_select"):
        label = _text_of(el.get("placeholder"), names, color) or "…"
        return f"[{label} ▾]"
    if kind == "image":
        return f"[image: {el.get('alt_text', '')}]"
    if kind in ("mrkdwn", "plain_text"):
        return _text_of(el, names, color)
    return ""


def _fields(fields: list[Any], width: int, names: Mapping[str, str], color: bool) -> list[str]:
    texts = [_text_of(f, names, color) for f in fields]
    column = (width - 2) // 2
    cells = [t.split("\n") for t in texts]
    if any(_visible_len(line) > column for cell in cells for line in cell):
        lines: list[str] = []
        for text in texts:
            lines.extend(_wrap(text, width))
        return lines
    out: list[str] = []
    for i in range(0, len(cells), 2):
        left = cells[i]
        right = cells[i + 1] if i + 1 < len(cells) else []
        for j in range(max(len(left), len(right))):
            a = left[j] if j < len(left) else ""
            b = right[j] if j < len(right) else ""
            pad = " " * (column - _visible_len(a) + 2)
            out.append((a + pad + b).rstrip() if b else a)
    return out


def _block(block: Any, width: int, names: Mapping[str, str], color: bool) -> list[str]:
    if not isinstance(block, Mapping):
        return []
    kind = block.get("type")
    if kind == "header":
        text = _text_of(block.get("text"), names, color)
        return _wrap(f"{_BOLD}{text}{_RESET}" if color else text, width)
    if kind == "divider":
        return ["─" * width]
    if kind == "section":
        lines: list[str] = []
        if block.get("text"):
            lines.extend(_wrap(_text_of(block["text"], names, color), width))
        if block.get("fields"):
            lines.extend(_fields(list(block["fields"]), width, names, color))
        accessory = _element(block.get("accessory"), names, color)
        if accessory:
            lines.append(accessory)
        return lines
    if kind == "context":
        parts = [_element(el, names, color) for el in block.get("elements", [])]
        text = "  ".join(p for p in parts if p)
        wrapped = _wrap(text, width)
        return [f"{_DIM}{line}{_RESET}" for line in wrapped] if color else wrapped
    if kind == "actions":
        parts = [_element(el, names, color) for el in block.get("elements", [])]
        return _wrap_items([p for p in parts if p], width)
    if kind == "image":
        return [f"[image: {block.get('alt_text', '')}]"]
    if kind == "rich_text":
        return _wrap("".join(_rich_text(block.get("elements", []))), width)
    return []


def _rich_text(elements: Iterable[Any]) -> Iterable[str]:
    for el in elements:
        if not isinstance(el, Mapping):
            continue
        if "text" in el and isinstance(el["text"], str):
            yield el["text"]
        if isinstance(el.get("elements"), list):
            yield from _rich_text(el["elements"])
            if el.get("type") in ("rich_text_section", "rich_text_preformatted"):
                yield "\n"


def render_console(
    payload: Mapping[str, Any],
    *,
    width: int = 100,
    names: Mapping[str, str] | None = None,
    color: bool = False,
) -> str:
    """Terminal text for a message payload (``text`` and optional ``blocks``).

    ``names`` maps Slack ids to display names (``{"S123": "oncall"}`` shows ``@oncall``);
    unknown ids are shown as ``@S123``.
    """
    names = names or {}
    blocks = payload.get("blocks") or []
    lines: list[str] = []
    if isinstance(blocks, list) and blocks:
        for block in blocks:
            lines.extend(_block(block, width, names, color))
    else:
        lines.extend(
            _wrap(decode_mrkdwn(str(payload.get("text", "")), names=names, color=color), width)
        )
    return "\n".join(line.rstrip() for line in lines)


def render_ephemeral(
    payload: Mapping[str, Any],
    *,
    width: int = 100,
    names: Mapping[str, str] | None = None,
    color: bool = False,
) -> str:
    """Like :func:`render_console`, for a reply only its asker sees."""
    said = _(s.EPHEMERAL_NOTE)
    note = f"{_DIM}{said}{_RESET}" if color else said
    return note + "\n" + render_console(payload, width=width, names=names, color=color)
