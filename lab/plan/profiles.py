"""Named presets for ``lab matrix``: what ``--profile`` chooses before other options apply."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lab.errors import UsageError
from lab.runner import KINDS

if TYPE_CHECKING:
    from lab.runner import Runner


@dataclass(frozen=True)
class Profile:
    """Defaults for a matrix; ``None`` means every task or runner, or the usable CPU count."""

    name: str
    description: str
    tasks: tuple[str, ...] | None = None
    runners: tuple[str, ...] | None = None
    workers: tuple[str, ...] | None = None
    jobs: int | None = None
    sizes: dict[str, float] = field(default_factory=dict)
    repeat: int = 3
    warmups: int = 0
    timeout: float = 60.0

    def summary(self) -> str:
        """What the profile runs, from its own fields (so ``--help`` cannot drift from it)."""
        tasks = ", ".join(self.tasks) if self.tasks else "every task"
        runners = ", ".join(self.runners) if self.runners else "every runner"
        workers = ", ".join(self.workers) if self.workers else "the usable CPUs"
        sizes = [
            f"{task} {int(size):,}" if float(size).is_integer() else f"{task} {size:g}"
            for task, size in self.sizes.items()
        ]
        jobs = f"{self.jobs} jobs a cell" if self.jobs else "2 jobs a worker"
        runs = f"{self.repeat} measured run{'s' * (self.repeat > 1)}"
        warm = f"{self.warmups} warm-up" if self.warmups else "no warm-up"
        return (
            f"{tasks} on {runners}, workers {workers}, {jobs}, "
            + (f"sizes {', '.join(sizes)} (else calibrated), " if sizes else "")
            + f"{runs}, {warm}: {self.description}"
        )


def in_table_order(runners: list[Runner]) -> list[Runner]:
    """``runners`` by kind, in :data:`lab.runner.KINDS` order (the baseline first, event loops
    last), then runners of other kinds; registration order within a kind."""
    rank = {kind: i for i, kind in enumerate(KINDS)}
    return sorted(runners, key=lambda runner: rank.get(runner.kind, len(rank)))


QUICK = Profile(
    name="quick",
    tasks=("cpu", "io", "echo"),
    description="what each way of running costs, in under a minute (the calibration warms the"
    " machine up)",
    sizes={"io": 0.1},
)


SEED = Profile(
    name="seed",
    description="the classic demo",
    tasks=("cpu", "io"),
    runners=("single", "threads", "interpreters", "processes", "threads-in-processes", "asyncio"),
    workers=("2",),
    jobs=2,
    sizes={"cpu": 200_000_000, "io": 10.0},
    repeat=1,
    timeout=900.0,
)

PROFILES = {profile.name: profile for profile in (QUICK, SEED)}
#: What ``lab matrix`` runs without ``--profile``.
DEFAULT_PROFILE = QUICK.name


@dataclass(frozen=True)
class Preset:
    """How many warm-up and measured runs each cell gets."""

    warmups: int
    repeat: int


#: ``--fast`` and ``--rigorous``; without either, the profile decides.
PRESETS = {"fast": Preset(warmups=0, repeat=1), "rigorous": Preset(warmups=1, repeat=10)}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise UsageError(
            f"unknown profile {name!r}; valid profiles: {', '.join(PROFILES)}"
        ) from None
