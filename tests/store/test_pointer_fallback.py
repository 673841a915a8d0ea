"""`versions.fallback_switch` and `versions.first_pointer` agree: on a folder whose rename cannot
replace a file, every prefix of the switch's steps (a kill after any step), and of a re-run's
steps from there (a second kill), leaves a pointer the reading rule finds, naming the old or
the new version; a run to the end leaves `CURRENT` itself naming the new one, nothing else.

The folder is simulated (a dict, rename refused over an existing name) so that every start
state and every pair of kill points is covered; tests/sftp/test_pointer_switch.py runs the
same switch against a real SFTP server.
"""

from __future__ import annotations

import itertools

import pytest

from ctsite.store import format as fmt
from ctsite.store import versions

OLD, OTHER, NEW = (f"v2026010{n}T000000Z-00000000-0000" for n in (1, 2, 3))
TMP = ".CURRENT.ctsite-part-0123456789ab"
GARBAGE = b'{"version": "v2026'


def run(folder: dict[str, bytes], steps: list[versions.Move], upto: int) -> None:
    """Apply the first `upto` steps as a server without rename-over would."""
    for step in steps[:upto]:
        if step.op == "remove":
            folder.pop(step.path, None)
        else:
            assert step.to is not None and step.to not in folder, (step, sorted(folder))
            folder[step.to] = folder.pop(step.path)


def switch(folder: dict[str, bytes]) -> list[versions.Move]:
    """The writer: a complete temp pointer to NEW, then the steps for what the folder holds."""
    folder[TMP] = versions.pointer_bytes(NEW, OLD)

    def valid(name: str) -> bool:
        return name in folder and versions.parse_pointer(folder[name]) is not None

    return versions.fallback_switch(valid(fmt.POINTER), valid(fmt.POINTER_NEXT), TMP)


def seen(folder: dict[str, bytes]) -> versions.Pointer | None:
    return versions.first_pointer(folder.get)


CONTENTS = {
    "absent": None,
    "garbage": GARBAGE,
    "old": versions.pointer_bytes(OLD),
    "other": versions.pointer_bytes(OTHER),
}
STARTS = list(itertools.product(CONTENTS, repeat=2))  # (CURRENT, CURRENT.next)


@pytest.mark.parametrize(("current", "following"), STARTS)
def test_every_kill_and_every_rerun_keep_a_pointer(current: str, following: str) -> None:
    start = {fmt.POINTER: CONTENTS[current], fmt.POINTER_NEXT: CONTENTS[following]}
    start = {name: data for name, data in start.items() if data is not None}
    before = seen(start)  # what readers saw before the publish (None: nothing live yet)
    allowed = {before.version, NEW} if before else {NEW}
    steps = switch(dict(start))
    for first in range(len(steps) + 1):  # killed after `first` steps
        once = dict(start)
        run(once, switch(once), first)
        now = seen(once)
        if before is not None:
            assert now is not None and now.version in allowed, (first, steps)
            went_live = any(step.live for step in steps[:first])
            assert (now.version == NEW) == went_live or before.version == NEW, (first, steps)
        for second in range(len(steps) + 2):  # the re-run, killed after `second` steps
            twice = dict(once)
            run(twice, switch(twice), second)
            later = seen(twice)
            if now is not None:
                assert later is not None and later.version in allowed, (first, second)
            final = dict(twice)
            run(final, switch(final), 99)  # a re-run to the end
            assert versions.parse_pointer(final[fmt.POINTER]) == versions.Pointer(NEW, OLD)
            assert fmt.POINTER_NEXT not in final and TMP not in final


def test_a_killed_switch_is_restored_before_anything_else() -> None:
    """Only CURRENT.next left (killed after CURRENT was removed): it is renamed back first."""
    steps = versions.fallback_switch(False, True, TMP)
    assert steps[:2] == [
        versions.Move("remove", fmt.POINTER),
        versions.Move("rename", fmt.POINTER_NEXT, fmt.POINTER),
    ]
