"""State kept per translation regime (address space, privilege, ...) for the most recently used
regimes only: a guest that runs many processes would otherwise keep some for every one it ever ran,
and walk all of them on each flush."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

Item = TypeVar("Item")


def recently_used(items: OrderedDict[Hashable, Item], key: Hashable, make: Callable[[], Item],
                  kept: int, dropped: Callable[[Item], object] | None = None) -> Item:
    """``key``'s item in ``items`` (made by ``make`` the first time), now the most recently used;
    the least recently used beyond ``kept`` are dropped (and given to ``dropped``, if set)."""
    item = items.get(key)
    if item is None:
        item = items[key] = make()
        if len(items) > kept:
            old = items.popitem(last=False)[1]
            if dropped is not None:
                dropped(old)
    else:
        items.move_to_end(key)
    return item
