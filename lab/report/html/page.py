"""One self-contained HTML file: the page's words and tables written out, its charts' and
tables' data embedded as JSON, and every script and style inline, so that it opens from disk
with no network (its Content-Security-Policy forbids fetching anything)."""

from __future__ import annotations

import functools
import re
from importlib import resources
from importlib.metadata import PackageNotFoundError
from typing import TYPE_CHECKING, Any

import jinja2

from lab.distributions import LAB_DISTRIBUTION, version
from lab.report.html.content import comparison_content, results_content
from lab.report.html.tables import PAGED_FROM

if TYPE_CHECKING:
    from lab.report.comparison_table import Compared
    from lab.report.html.content import Content
    from lab.results.model import Results

#: The vendored libraries (``vendor/``, see its README), each with its licence, in load order.
LIBRARIES = (
    ("chart.umd.min.js", "chart.js.LICENSE.md"),
    ("chartjs-chart-error-bars.umd.min.js", "chartjs-chart-error-bars.LICENSE"),
    ("gridjs.umd.js", "gridjs.LICENSE"),
)
STYLES = ("vendor/gridjs-mermaid.min.css", "lab.css")
VERSIONS = {"chart": "4.6.2", "errorbars": "4.4.5", "grid": "6.2.0"}
#: The height of a chart of lines, and of a timeline's row.
CHART_HEIGHT = 320
ROW_HEIGHT = 22
TIMELINE_MARGIN = 70
_SOURCE_MAP = re.compile(r"^//# sourceMappingURL=.*$", re.MULTILINE)


def results_page(results: Results) -> str:
    """The page of a run: a matrix, a sweep or a user's function."""
    return render(results_content(results))


def comparison_page(compared: Compared) -> str:
    """The page of ``lab compare``."""
    return render(comparison_content(compared))


def render(content: Content) -> str:
    """``content`` as a page: each chart and table numbered, their data embedded."""
    charts: list[dict[str, Any]] = []
    tables: list[dict[str, Any]] = []
    for chart in _charts(content):
        chart["id"] = len(charts)
        chart["height"] = _height(chart)
        charts.append({k: v for k, v in chart.items() if k != "table"})
    for found in _tables(content):
        found["id"] = len(tables)
        found["shown"] = PAGED_FROM if found["paged"] else len(found["rows"])
        tables.append({k: found[k] for k in ("headers", "numeric", "rows", "paged")})
    return _template().render(
        page=content,
        data={"charts": charts, "tables": tables},
        css="\n".join(_asset(name) for name in STYLES),
        scripts=[*map(_library, LIBRARIES), _asset("lab.js")],
        version=_lab_version(),
        libraries=VERSIONS,
    )


def _charts(content: Content) -> list[dict[str, Any]]:
    found = []
    for section in content["sections"]:
        found += [*section["charts"], *section["timelines"]]
    found += [run["chart"] for run in content.get("runs", ()) if run["chart"] is not None]
    return found


def _tables(content: Content) -> list[dict[str, Any]]:
    found = []
    for section in content["sections"]:
        found += [chart["table"] for chart in [*section["charts"], *section["timelines"]]]
        if section["table"] is not None:
            found.append(section["table"])
    for run in content.get("runs", ()):
        found += [t for t in (run["table"], run["different"]) if t is not None]
    found += [verdict["table"] for verdict in content["verdicts"]]
    return found


def _height(chart: dict[str, Any]) -> int:
    if chart["kind"] == "timeline":
        return TIMELINE_MARGIN + ROW_HEIGHT * max(len(chart["rows"]), 2)
    if chart["kind"] == "ratios":
        return TIMELINE_MARGIN + 2 * ROW_HEIGHT * max(len(chart["rows"]), 2)
    return CHART_HEIGHT


@functools.cache
def _template() -> jinja2.Template:
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return environment.from_string(_asset("page.html.j2"))


@functools.cache
def _asset(name: str) -> str:
    return resources.files("lab.report.html").joinpath(name).read_text(encoding="utf-8")


def _library(names: tuple[str, str]) -> str:
    """A vendored script, its licence first as a comment, without its source map's address
    (nothing is fetched) and with no ``</script`` to end the element early."""
    script, licence = names
    text = _SOURCE_MAP.sub("", _asset(f"vendor/{script}"))
    notice = _asset(f"vendor/{licence}").replace("*/", "* /")
    return f"/* {script}\n{notice}*/\n" + text.replace("</script", "<\\/script")


def _lab_version() -> str:
    try:
        return version(LAB_DISTRIBUTION)
    except PackageNotFoundError:
        return "(not installed)"
