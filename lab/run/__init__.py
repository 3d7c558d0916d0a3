"""Measuring: the rounds of cells, each run in a fresh worker process that a supervisor can
always kill, the records checked before they are trusted, the machine lock and calibration."""
