"""``python -m lab.worker SPEC.json RESULT.json``: one measurement of one cell."""

from __future__ import annotations

import sys

from lab.worker.main import main

main(sys.argv[1:])
