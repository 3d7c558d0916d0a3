"""``lab plugins``: what each plugin is and what it registered."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import tabulate

from lab.distributions import LAB_DISTRIBUTION, normalized
from lab.plan.profiles import in_table_order
from lab.report.fit import Column, fit_table, widest, wrap_lines

if TYPE_CHECKING:
    from collections.abc import Mapping

    import pluggy

    from lab.host.manager import LoadReport
    from lab.host.registry import Catalog, Registry

#: The availability of a runner two plugins registered.
CONFLICT = "no: registered by two plugins"
#: The column of where each runner and task comes from, left out where the table cannot fit
#: the terminal with it however its text wraps, and what is said below a table without it.
FROM_HEADER = "from"
FROM_ELSEWHERE = (
    "from: lab plugins --all lists each plugin, its distribution and what it registered"
)


def plugin_listing(
    pm: pluggy.PluginManager,
    report: LoadReport,
    catalog: Catalog,
    everything: bool,
    width: int | None = None,
) -> str:
    """A table of the plugins (built-ins only when ``everything``) and the load warnings;
    where the table is wider than ``width`` columns, a paragraph a plugin instead."""
    rows = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        dist = report.distributions.get(name, "")
        builtin = normalized(dist.split(" ")[0]) == LAB_DISTRIBUTION
        if builtin and not everything:
            continue
        owner = report.origin(name)
        hooks = sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])
        rows.append(
            [
                name,
                dist or "not installed (loaded with -p)",
                ", ".join(hooks),
                ", ".join(_registered_by(catalog.runners, owner)),
                ", ".join(_registered_by(catalog.tasks, owner)),
            ]
        )
    if not rows:
        return "no third-party plugins are installed; lab plugins --all lists the built-in ones"
    headers = ("plugin", "distribution", "hooks", "runners", "tasks")
    table = tabulate.tabulate(rows, headers=headers)
    if width is not None and widest(table) > width:
        table = "\n".join(_plugin_paragraph(headers, row, width) for row in rows)
    return "\n\n".join([table, *(wrap_lines(c, width, "    ") for c in _conflicts(catalog))])


def _plugin_paragraph(headers: tuple[str, ...], row: list[str], width: int) -> str:
    """One plugin of ``lab plugins`` in lines of their own: its name and distribution, then
    each of what it has, wrapped within ``width``."""
    name, dist, *rest = row
    lines = [f"{name}: {dist}"]
    lines += [f"  {header}: {text}" for header, text in zip(headers[2:], rest, strict=True) if text]
    return wrap_lines("\n".join(lines), width, indent="    ")


def catalog_listing(catalog: Catalog, width: int | None = None) -> str:
    """``lab list``: every runner with its kind and whether it runs here, and every task;
    within ``width`` columns, the descriptions wrapped."""
    runners = in_table_order(list(catalog.runners.items.values()))
    tasks = list(catalog.tasks.items.values())
    runner_columns = [
        Column("runner", [r.name for r in runners]),
        Column("kind", [r.kind for r in runners]),
        Column("description", [r.description for r in runners], wrap=True),
        Column(FROM_HEADER, [_owners(catalog.runners, r.name) for r in runners], wrap=True),
        Column(
            "available",
            [
                CONFLICT if r.name in catalog.runners.conflicts else r.unavailable() or "yes"
                for r in runners
            ],
            wrap=True,
        ),
    ]
    task_columns = [
        Column("task", [t.name for t in tasks]),
        Column("bound", [t.bound for t in tasks]),
        Column("description", [t.description for t in tasks], wrap=True),
        Column(FROM_HEADER, [_owners(catalog.tasks, t.name) for t in tasks], wrap=True),
        Column("forms", [", ".join(t.forms) for t in tasks], wrap=True),
    ]
    return "\n\n".join(
        [
            _fitted(runner_columns, width),
            *_options("--runner-option", [(r.name, r.option_help) for r in runners], width),
            _fitted(task_columns, width),
            *_options("--task-option", [(t.name, t.option_help) for t in tasks], width),
            *_conflicts(catalog),
        ]
    )


def _fitted(columns: list[Column], width: int | None) -> str:
    """The table within ``width``: without the column of origins (saying where they are) only
    where it cannot fit with it, its text wrapped as far as it goes."""
    table = fit_table(columns, width, "simple")
    if width is None or widest(table) <= width:
        return table
    kept = [c for c in columns if c.header != FROM_HEADER]
    return f"{fit_table(kept, width, 'simple')}\n{wrap_lines(FROM_ELSEWHERE, width)}"


def _options(
    flag: str, option_help: list[tuple[str, Mapping[str, str]]], width: int | None
) -> list[str]:
    """The options runners or tasks take from ``flag``, one row each."""
    rows = [(f"{name}.{key}", text) for name, found in option_help for key, text in found.items()]
    if not rows:
        return []
    columns = [
        Column(flag, [name for name, _ in rows]),
        Column("meaning", [text for _, text in rows], wrap=True),
    ]
    return [fit_table(columns, width, "simple")]


def _registered_by(registry: Registry[Any], owner: str) -> list[str]:
    """The names ``owner`` registered, those it conflicts on included."""
    names = [n for n, o in registry.owners.items() if o == owner]
    return names + [n for n, owners in registry.conflicts.items() if owner in owners[1:]]


def _owners(registry: Registry[Any], name: str) -> str:
    """The plugin that registered ``name``, or every plugin that did."""
    return " and ".join(registry.conflicts.get(name, [registry.owners[name]]))


def _conflicts(catalog: Catalog) -> list[str]:
    found = catalog.conflicts()
    return ["conflicts (measuring commands refuse to run until one plugin is blocked):\n"
            + "\n".join(f"  {line}" for line in found)] if found else []  # fmt: skip
