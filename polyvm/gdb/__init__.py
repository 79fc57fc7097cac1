"""A GDB remote-serial-protocol server for polyvm's RISC-V machines; see stub.py for what it supports.

From the command line, as with QEMU (``-s`` is ``--gdb tcp::1234``; ``-S`` waits for GDB to continue)::

    polyvm run -M spike --kernel prog.elf -s -S &
    gdb-multiarch prog.elf -ex 'target remote :1234' -ex 'break main' -ex continue

From Python: ``VmService.enable_gdb_debugging(port)`` (port 0 picks a free one and returns it).
"""

from polyvm.gdb.server import GdbServer

__all__ = ["GdbServer"]
