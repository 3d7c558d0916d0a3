"""``lab plugins``: what each plugin is and what it registered."""

from __future__ import annotations

from typing import TYPE_CHECKING

import tabulate

if TYPE_CHECKING:
    import pluggy

    from lab.host.manager import LoadReport
    from lab.host.registry import Catalog

BUILTIN_DISTRIBUTION = "concurrency-lab"


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
    return tabulate.tabulate(rows, headers=headers)
