"""Text that is safe to print in a terminal and in a GitHub Actions log.

Everything the CLI prints may hold what a pull request wrote (addresses, file names,
rendered messages) or what the network answered (ids, URLs, error texts). In a CI log a
line starting with ``::`` is a workflow command (``::add-mask::``, ``::error::``,
``::stop-commands::``…) and ``##[`` anywhere is an old-style one; a CR rewrites what a
line shows, and bidirectional controls make text read differently from what it is. So
every line printed passes ``neutralise``: control and bidirectional characters become
visible escapes (in JSON's own ``\\uXXXX`` form, so printed JSON stays valid), and a line
that would start a workflow command is prefixed so it cannot. The CLI's own workflow
commands (annotations) are the only lines printed without it.
"""

from __future__ import annotations

import re

#: Colour (SGR) sequences are the only escape sequences kept: they cannot move the
#: cursor or rewrite a line.
_SGR = re.compile(r"\x1b\[[0-9;]*m")
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f"           # C0 (but tab and LF) and C1 controls, ESC and CR included
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidirectional marks, embeddings, isolates
    "\u2028\u2029\ufeff"                     # line and paragraph separators, BOM
    "\ud800-\udfff]")                          # lone surrogates (bytes of a name that is not UTF-8)
#: What makes a line (once colour is set aside and blanks stripped) a workflow command.
_COMMAND_START = ("::",)
_OLD_COMMAND = "##["
#: Put before a line that would otherwise start a workflow command.
GUARD = "> "


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return {"\r": "\\r", "\x1b": "\\u001b"}.get(char, f"\\u{ord(char):04x}")


def escape_controls(text: str) -> str:
    """Control and bidirectional characters of ``text`` (CR and LF included) as visible escapes."""
    return text if text.isascii() and text.isprintable() else \
        _UNSAFE.sub(_escape, text.replace("\n", "\\n"))


#: What GitHub's runner skips before it looks for ``::`` (every Unicode space), and the
#: invisible characters that show as nothing before it.
_BLANK = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
          "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"  # every character str.isspace() knows
          "\u200b\u200c\u200d\u2060\ufeff")


def _guard(text: str) -> str:
    """Defuse old-style commands anywhere, and a new-style one at the line's start."""
    text = text.replace(_OLD_COMMAND, "##\\u005b")  # JSON reads it back as "##["
    visible = (_SGR.sub("", text) if "\x1b" in text else text).lstrip(_BLANK)
    return GUARD + text if visible.startswith(_COMMAND_START) else text


def _line(line: str) -> str:
    kept: list[str] = []
    last = 0
    for sgr in _SGR.finditer(line):  # escape around the colour sequences, keep them
        kept.append(_UNSAFE.sub(_escape, line[last:sgr.start()]))
        kept.append(sgr.group())
        last = sgr.end()
    kept.append(_UNSAFE.sub(_escape, line[last:]))
    return _guard("".join(kept))


def neutralise(text: str) -> str:
    """``text`` with no line able to start a workflow command, and no CR, control or
    bidirectional character left raw (colour sequences are kept)."""
    if text.isascii() and text.isprintable():  # the common case: one plain line
        return _guard(text)
    return "\n".join(_line(line) for line in text.split("\n"))
