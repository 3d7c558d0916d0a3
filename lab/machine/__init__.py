"""This machine and its processes: the facts a run is measured under, and the readings of a
process tree's CPU time and memory that the lab and a cell's worker both take."""
