"""Three-way merge of configs: keep what changed in the file while Settings was open.

Settings edits a copy of the file (`base`). Meanwhile `lifeline import` or an editor may
change the file (`theirs`). On save, `merge(base, mine, theirs)` keeps both sides'
changes: per key in a [table], per entry (by its unique key) in a [[table]]. When both
sides changed the same thing differently, MergeConflict names each such key, and the
caller asks the person instead of choosing for them.
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from app.config import SECTIONS, Config, Section


class MergeConflict(Exception):
    """Both sides changed these keys differently."""

    def __init__(self, keys: list[str]) -> None:
        super().__init__(", ".join(keys))
        self.keys = keys


def merge(base: Config, mine: Config, theirs: Config) -> tuple[Config, list[str]]:
    """The config with both sides' changes, and what was taken from `theirs` (as keys).

    Raises MergeConflict."""
    conflicts: list[str] = []
    taken: list[str] = []
    values: dict[str, Any] = {}
    for section in SECTIONS:
        b, m, t = (getattr(c, section.attr) for c in (base, mine, theirs))
        if section.many and section.unique:
            values[section.attr] = _merge_entries(section, b, m, t, conflicts, taken)
        elif section.many:
            values[section.attr] = _pick(section.key, b, m, t, conflicts, taken)
        else:
            values[section.attr] = replace(m, **{
                f.name: _pick(f"{section.key}.{f.name}", getattr(b, f.name),
                              getattr(m, f.name), getattr(t, f.name), conflicts, taken)
                for f in fields(section.cls)
            })
    if conflicts:
        raise MergeConflict(conflicts)
    return replace(mine, **values), taken


def _pick(key: str, base: Any, mine: Any, theirs: Any,
          conflicts: list[str], taken: list[str]) -> Any:
    if mine == base and theirs != base:
        taken.append(key)
        return theirs
    if theirs not in (base, mine):
        conflicts.append(key)
    return mine


def _merge_entries(
    section: Section,
    base: tuple[Any, ...],
    mine: tuple[Any, ...],
    theirs: tuple[Any, ...],
    conflicts: list[str],
    taken: list[str],
) -> tuple[Any, ...]:
    def by_key(entries: tuple[Any, ...]) -> dict[str, Any]:
        return {str(getattr(e, section.unique)).casefold(): e for e in entries}

    b, t = by_key(base), by_key(theirs)
    merged: list[Any] = []
    for entry in mine:
        key = str(getattr(entry, section.unique)).casefold()
        label = f"{section.key} {getattr(entry, section.unique)!r}"
        if key in b and entry == b[key]:
            if key in t:  # unchanged here: their edit (if any) wins
                if t[key] != entry:
                    taken.append(label)
                merged.append(t[key])
            else:  # unchanged here, removed there
                taken.append(label)
            continue
        theirs_entry = t.get(key)
        if theirs_entry is not None and theirs_entry not in (b.get(key), entry):
            conflicts.append(label)
        merged.append(entry)  # changed or added here (removed there: kept, nothing lost)
    mine_keys = {str(getattr(e, section.unique)).casefold() for e in mine}
    for key, entry in t.items():
        if key in mine_keys:
            continue
        label = f"{section.key} {getattr(entry, section.unique)!r}"
        if key not in b:  # added there
            taken.append(label)
            merged.append(entry)
        elif entry != b[key]:  # removed here, changed there
            conflicts.append(label)
    return tuple(merged)
