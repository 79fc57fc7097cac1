"""The seed's "complete virtual machine start" example (api.md section 8) with polyvm's VmService.

    python examples/vm_service.py [KERNEL]

Boots a bare-metal RISC-V ELF (default: the demo guest) on the spike board, prints the
instruction count once a second while the guest runs, then stops the machine. The seed's example
also adds a disk; block devices need the virt board (``board="virt"``), see VmService.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from polyvm import ExecMode, GuestArch, VmConfig
from polyvm.service import VmService

DEMO = Path(__file__).resolve().parents[1] / "polyvm" / "demo" / "hello-riscv64.elf"


async def main(kernel_path: Path) -> int:
    # 1. Configuration (the JIT has not landed yet: the interpreter runs the guest).
    config = (
        VmConfig.new(GuestArch.RISCV64)
        .with_exec_mode(ExecMode.INTERPRETER)
        .with_memory_size(64 * 1024 * 1024)
        .with_vcpu_count(1)
    )
    # 2. Load the kernel.
    kernel = kernel_path.read_bytes()
    # 3. Create the virtual machine.
    vm = await VmService.new(config, kernel, None, board="spike")
    # 4. (Devices: vm.add_block_device("root", "disk.img") on board="virt".)
    # 5. Start it.
    await vm.start()
    # 6. Watch it run.
    while True:
        await asyncio.sleep(1)
        stats = vm.stats()
        print(f"Executed {stats.instructions_executed} instructions")
        if not vm.is_running():
            break
    # 7. Clean up.
    await vm.stop()
    print(vm.console_output.decode(), end="")
    print(f"guest exit code {vm.exit_code}, state {vm.state().value}")
    return vm.exit_code or 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEMO)))
