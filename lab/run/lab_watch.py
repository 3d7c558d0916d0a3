"""The cells' guard: ``python -m lab.run.lab_watch LAB_PID FOLDER``.

A process of its own, started once by the lab, that runs none of the cells' code. When the lab
dies without cleaning up (SIGKILL, the OOM killer), it kills the process group of the cell that
was running and removes its temporary folder, which ``FOLDER/state.json`` names, then FOLDER
(the lab's private folder). A job holding the GIL in a C loop cannot delay it: nothing of it
runs inside the cell.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path

#: How often the watcher checks that the lab is alive (seconds).
POLL = 0.2
#: The state the lab writes in its private folder.
STATE_FILE = "state.json"


def main(argv: list[str]) -> None:
    lab, folder = int(argv[0]), Path(argv[1])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the lab's to handle
    while os.getppid() == lab:
        time.sleep(POLL)
    with contextlib.suppress(OSError, ValueError):
        running = json.loads((folder / STATE_FILE).read_text())
        for group in running.get("groups", []):
            with contextlib.suppress(OSError):
                os.killpg(int(group), signal.SIGKILL)
        for cell in running.get("folders", []):
            shutil.rmtree(cell, ignore_errors=True)
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
