"""Debugger hooks the interpreter honours (used by polyvm.gdb), kept outside guest memory.

Breakpoints are virtual pcs in ``Interpreter.breakpoints``: the translator ends every block before
one, and the dispatch raises ``DebugStop`` instead of running a block that starts at one. Guest memory
is never patched, so the guest cannot see or overwrite them.

Watchpoints are virtual address ranges. The hart's SoftMmu keeps their pages out of its fast maps
(``slow_pages``), so every load and store to those pages reaches the slow-path helpers, which
``watch_helpers`` wraps: an access that overlaps a watchpoint raises ``DebugStop`` *before* it
happens, with guest state precise at that instruction. The debugger then runs that one instruction
with watchpoints suppressed and reports the stop after the access, as hardware watchpoints do.
Atomics (LR/SC/AMO) go through physical helpers and do not trigger watchpoints.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from polyvm.arch.riscv64.traps import GuestTrap

SIZES = (1, 2, 4, 8)
MEMORY_HELPERS = tuple(f"{kind}{size}" for kind in ("L", "W") for size in SIZES) + tuple(
    f"L{size}s" for size in SIZES
)
"""The slow-path load/store helpers of translated code (see pycodegen)."""
WATCH_KINDS = ("watch", "rwatch", "awatch")
"""Stop-reply names of write, read and access watchpoints (GDB remote protocol)."""


class DebugStop(GuestTrap):  # noqa: N818 - a debugger event, not an error
    """Stop for the debugger before instruction ``index`` of the running block runs.

    ``kind`` is ``"swbreak"`` (a breakpoint at ``pc``) or a WATCH_KINDS name with the data address.
    Subclassing GuestTrap makes translated code write its registers back before it propagates.
    """

    def __init__(self, pc: int, index: int, kind: str, addr: int, in_block: bool = True) -> None:
        super().__init__(-1, addr, pc, index, in_block)
        self.kind = kind
        self.addr = addr


@dataclasses.dataclass(frozen=True)
class Watchpoint:
    addr: int
    length: int
    kind: str
    """One of WATCH_KINDS: write, read or any access."""

    def hit(self, addr: int, size: int, write: bool) -> bool:
        if (self.kind == "watch" and not write) or (self.kind == "rwatch" and write):
            return False
        return addr < self.addr + self.length and self.addr < addr + size

    def pages(self) -> range:
        return range(self.addr >> 12, ((self.addr + max(self.length, 1) - 1) >> 12) + 1)


def watch_helpers(helpers: dict[str, Callable], watches: list[Watchpoint]) -> dict[str, Callable]:
    """The MEMORY_HELPERS of ``helpers`` wrapped to raise DebugStop before a watched access."""

    def check(addr: int, size: int, write: bool, pc: int, index: int) -> None:
        for watch in watches:
            if watch.hit(addr, size, write):
                raise DebugStop(pc, index, watch.kind, max(addr, watch.addr))

    def load(inner: Callable, size: int) -> Callable:
        def run(a: int, pc: int, i: int) -> int:
            check(a, size, False, pc, i)
            return inner(a, pc, i)

        return run

    def store(inner: Callable, size: int) -> Callable:
        def run(a: int, v: int, pc: int, i: int) -> None:
            check(a, size, True, pc, i)
            inner(a, v, pc, i)

        return run

    wrapped: dict[str, Callable] = {}
    for size in SIZES:
        wrapped[f"L{size}"] = load(helpers[f"L{size}"], size)
        wrapped[f"L{size}s"] = load(helpers[f"L{size}s"], size)
        wrapped[f"W{size}"] = store(helpers[f"W{size}"], size)
    return wrapped
