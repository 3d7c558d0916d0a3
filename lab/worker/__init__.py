"""The cell's worker process (``python -m lab.worker``): it loads the plugins afresh, starts
the runner, times start-up, the jobs and close, and answers as JSON."""

#: In a cell's folder while its session runs the jobs, if the session has ``abandon``: the lab
#: then sends the worker SIGTERM before killing it, and waits for it up to ``ABANDON_TIME``.
ABANDON_OFFERED = "abandon-offered"
#: What ``abandon`` said, written in the cell's folder before the worker exits.
ABANDON_NOTE = "abandoned.txt"
