"""The HTML report: one self-contained page for a run (a matrix, a sweep, a user's function)
or a comparison, to open in a browser from disk (see :mod:`lab.report.html.page`)."""

from lab.report.html.page import comparison_page, results_page

__all__ = ["comparison_page", "results_page"]
