"""The cell's worker process (``python -m lab.worker``): it loads the plugins afresh, starts
the runner, times start-up, the jobs and close, and answers as JSON."""
