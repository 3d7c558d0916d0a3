"""``python -m lab`` is the ``lab`` command."""

from lab.cli import console_main

console_main()
