"""The one error base class: something the user gave (a file, a config value, a checkpoint, an input)
cannot be used. Every command-line entry point catches :class:`VistanceError` and prints its message
as one line, ``error: ...``, exiting with status 2; anything else is a bug and keeps its traceback.

Subclasses say which kind of thing was wrong, so callers can catch narrowly; each message names the
file, key or index at fault and, where there is one, the fix.
"""

from __future__ import annotations

import sys


class VistanceError(ValueError):
    """Unusable input, config, data or checkpoint. Subclasses ``ValueError`` for older callers."""


class ConfigError(VistanceError):
    """A config file or ``--set`` override is invalid; the message names the key."""


class DataError(VistanceError):
    """A labelled corpus file or table cannot be used; the message names ``file:line``."""


class CheckpointError(VistanceError):
    """A checkpoint or run folder cannot be loaded."""


class InputError(VistanceError):
    """Text given for prediction (CLI file, API argument, HTTP body) cannot be used."""


class WeightsUnavailableError(VistanceError):
    """Pretrained weights (PhoBERT, e5) cannot be found or read."""


def exit_on_error(err: BaseException, prog: str | None = None) -> int:
    """Print ``error: <message>`` (one line) to stderr and return the exit status 2."""
    lines = [line for line in str(err).splitlines() if line.strip()] or [type(err).__name__]
    msg = " ".join(lines[0].split())
    if len(lines) > 1:  # e.g. a corpus file with many bad lines: the first, and how to see them all
        msg += f" (and {len(lines) - 1} more problem(s); `python -m vistance.data validate FILE` lists them)"
    print(f"{prog + ': ' if prog else ''}error: {msg}", file=sys.stderr)
    return 2
