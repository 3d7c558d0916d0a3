"""``lab plugins``: what each plugin is and what it registered."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import tabulate

from lab.plan.profiles import in_table_order

if TYPE_CHECKING:
    import pluggy

    from lab.host.manager import LoadReport
    from lab.host.registry import Catalog, Registry

BUILTIN_DISTRIBUTION = "concurrency-lab"
#: The availability of a runner two plugins registered.
CONFLICT = "no: registered by two plugins"


def plugin_listing(
    pm: pluggy.PluginManager, report: LoadReport, catalog: Catalog, everything: bool
) -> str:
    """A table of the plugins (built-ins only when ``everything``) and the load warnings."""
    rows = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        dist = report.distributions.get(name, "")
        builtin = dist.split(" ")[0] == BUILTIN_DISTRIBUTION
        if builtin and not everything:
            continue
        owner = report.origin(name)
        hooks = sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])
        rows.append(
            [
                name,
                dist or "not installed (loaded with -p)",
                ", ".join(hooks),
                ", ".join(n for n, o in catalog.runners.owners.items() if o == owner),
                ", ".join(n for n, o in catalog.tasks.owners.items() if o == owner),
            ]
        )
    if not rows:
        return "no third-party plugins are installed; lab plugins --all lists the built-in ones"
    headers = ("plugin", "distribution", "hooks", "runners", "tasks")
    return "\n\n".join([tabulate.tabulate(rows, headers=headers), *_conflicts(catalog)])


def catalog_listing(catalog: Catalog) -> str:
    """``lab list``: every runner with its kind and whether it runs here, and every task."""
    runners = [
        [
            r.name,
            r.kind,
            r.description,
            _owners(catalog.runners, r.name),
            CONFLICT if r.name in catalog.runners.conflicts else r.unavailable() or "yes",
        ]
        for r in in_table_order(list(catalog.runners.items.values()))
    ]
    tasks = [
        [t.name, t.bound, t.description, _owners(catalog.tasks, t.name), ", ".join(t.forms)]
        for t in catalog.tasks.items.values()
    ]
    return "\n\n".join(
        [
            tabulate.tabulate(
                runners, headers=("runner", "kind", "description", "from", "available")
            ),
            tabulate.tabulate(tasks, headers=("task", "bound", "description", "from", "forms")),
            *_conflicts(catalog),
        ]
    )


def _owners(registry: Registry[Any], name: str) -> str:
    """The plugin that registered ``name``, or every plugin that did."""
    return " and ".join(registry.conflicts.get(name, [registry.owners[name]]))


def _conflicts(catalog: Catalog) -> list[str]:
    found = catalog.conflicts()
    return ["conflicts (measuring commands refuse to run until one plugin is blocked):\n"
            + "\n".join(f"  {line}" for line in found)] if found else []  # fmt: skip
