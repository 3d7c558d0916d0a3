"""Errors meant for users: the CLI prints each as one line and exits non-zero."""

from __future__ import annotations


class LabError(Exception):
    """An error the user can act on; its message is one complete sentence."""

    exit_code = 2


class UsageError(LabError):
    """Bad command-line input, found before anything runs."""


class PluginError(LabError):
    """A plugin could not be loaded or registered what it may not."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: running cells are ended, what was measured is kept."""


def exit_code_of(interruption: KeyboardInterrupt) -> int:
    """The shell's code for the signal that stopped the lab: 143 for SIGTERM, 130 for Ctrl-C."""
    return 143 if isinstance(interruption, Terminated) else 130
