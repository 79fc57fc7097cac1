"""The asyncio service API of seed section 6: VmService, VmState, PerformanceStats."""

from polyvm.service.runner import MachineRunner
from polyvm.service.vm_service import PerformanceStats, VmService, VmState

__all__ = ["MachineRunner", "PerformanceStats", "VmService", "VmState"]
