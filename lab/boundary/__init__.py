"""The process boundary: what crosses between the lab and a cell's worker process, as JSON
files written whole (never pickle). :mod:`~lab.boundary.requests` holds what the lab asks, with
the one :class:`~lab.boundary.requests.WorkerOptions` every worker is set up with;
:mod:`~lab.boundary.measurement` what a worker answers, down to each job's record fields."""
