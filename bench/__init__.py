"""Benchmarks of the lab against hand-written equivalents: ``python -m bench``."""
