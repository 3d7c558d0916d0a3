"""Interpreters and their environments: finding what ``--python`` names (through uv), and an
environment per interpreter, created once and cached, that runs its cells."""
