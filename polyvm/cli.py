"""The ``polyvm`` command line (QEMU-like flags). ``polyvm run -M spike --bios none --kernel X``."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

from polyvm.core.config import VmConfig
from polyvm.core.errors import ConfigError, VmError
from polyvm.core.protocols import ExitReason, RunResult
from polyvm.core.types import ExecMode, GuestArch

BOARDS = ("virt", "spike", "microvm")
MACHINE_OPTIONS = {"microvm": {"acpi": ("on", "off")}}
"""The ``-M board,key=value`` options each board takes and their values, the default first."""
DEFAULT_BIOS = Path("/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin")
DEMO_IMAGE = Path(__file__).parent / "demo" / "hello-riscv64.elf"
DEFAULT_GDB = "tcp::1234"


def parse_size(text: str) -> int:
    """QEMU-style sizes: 256M, 1G, 65536 (bytes when no suffix, MiB when a bare small number)."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper().removesuffix("B").removesuffix("I")
    try:
        if text and text[-1] in units:
            return int(float(text[:-1]) * units[text[-1]])
        value = int(text)
    except ValueError:
        raise ConfigError(f"cannot read memory size {text!r} (use e.g. 256M or 1G)") from None
    return value << 20 if value < 1 << 20 else value


def parse_gdb_address(spec: str) -> tuple[str, int]:
    """QEMU's ``-gdb`` syntax: ``tcp::PORT``, ``tcp:HOST:PORT`` (or without ``tcp:``, or a bare port)."""
    host, _, port = spec.removeprefix("tcp:").rpartition(":")
    try:
        number = int(port)
    except ValueError:
        raise ConfigError(f"cannot read GDB address {spec!r} (use e.g. tcp::1234)") from None
    if not 0 <= number < 65536:
        raise ConfigError(f"GDB port {number} is out of range")
    return host or "127.0.0.1", number


def parse_machine(spec: str) -> tuple[str, dict[str, str]]:
    """QEMU's ``-M board[,key=value...]``: the board name and every option it takes, defaults filled in."""
    from polyvm.net.cli_spec import split_options

    name, fields = split_options(spec, "-M")
    if name not in BOARDS:
        raise ConfigError(f"-M {spec!r}: unknown board {name!r} (available: {', '.join(BOARDS)})")
    options = MACHINE_OPTIONS.get(name, {})
    takes = ", ".join(f"{key}={'|'.join(values)}" for key, values in options.items()) or "no options"
    for key, value in fields.items():
        if key not in options:
            raise ConfigError(f"-M {spec!r}: the {name} board has no option {key!r} (it takes {takes})")
        if value not in options[key]:
            raise ConfigError(f"-M {spec!r}: {key}={value!r} is not one of {'|'.join(options[key])}")
    return name, {key: fields.get(key, values[0]) for key, values in options.items()}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="polyvm", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="boot a guest")
    run.add_argument("-M", "--machine", default="virt", metavar="virt|spike|microvm[,acpi=on|off]",
                     help="board; microvm's acpi=off announces the virtio devices on the kernel command "
                     "line instead of in ACPI tables (no ACPI power-off then: the guest resets to stop)")
    run.add_argument("-m", "--memory", default="128M", help="guest RAM size (e.g. 256M)")
    run.add_argument("-smp", "--smp", type=int, default=1, help="number of harts")
    run.add_argument("--bios", help="firmware image, 'default' (Debian's OpenSBI) or 'none' "
                     "(default: 'default' on virt, 'none' on spike)")
    run.add_argument("--kernel", help="kernel or bare-metal program (ELF or raw)")
    run.add_argument("--initrd", help="initial ramdisk (virt)")
    run.add_argument("--append", default="", help="kernel command line (virt)")
    run.add_argument("-netdev", "--netdev", action="append", default=[],
                     metavar="tap,id=N,ifname=IF|socket,id=N,local=H:P,remote=H:P",
                     help="network back end (virt, microvm; repeatable)")
    run.add_argument("-device", "--device", action="append", default=[],
                     metavar="virtio-net-device,netdev=N[,mac=MAC]",
                     help="device (virt, microvm; repeatable)")
    run.add_argument("--drive", action="append", default=[], metavar="file=PATH[,readonly=on]",
                     help="virtio block device (virt, microvm; repeatable)")
    run.add_argument("--dump-dtb", metavar="FILE", help="write the generated device tree and exit")
    run.add_argument("--exec-mode", choices=[mode.value for mode in ExecMode],
                     help="execution mode (default: accelerated on microvm, hybrid elsewhere)")
    run.add_argument("--icount", action="store_true",
                     help="guest time follows the instruction count (reproducible runs)")
    run.add_argument("--nographic", action="store_true", help="console on stdio (the default)")
    run.add_argument("--stats", action="store_true", help="print execution statistics at exit")
    run.add_argument("--max-instructions", type=int, help="stop after this many instructions")
    run.add_argument("--timeout", type=float, help="stop after this many seconds")
    run.add_argument("--htif-tohost", type=lambda s: int(s, 0),
                     help="spike board: tohost address for raw binaries")
    run.add_argument("--htif-fromhost", type=lambda s: int(s, 0),
                     help="spike board: fromhost address for raw binaries")
    run.add_argument("--gdb", metavar="tcp::PORT", help="wait for GDB connections on this port")
    run.add_argument("-s", dest="gdb", action="store_const", const=DEFAULT_GDB,
                     help=f"shorthand for --gdb {DEFAULT_GDB}")
    run.add_argument("-S", dest="start_stopped", action="store_true",
                     help="do not start the guest until GDB continues it")
    sub.add_parser("demo", help="boot the built-in demo guest")
    return parser


def _write_console(data: bytes) -> None:
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def _bios_path(args: argparse.Namespace) -> str | None:
    bios = args.bios or ("default" if args.machine == "virt" else "none")
    if bios == "none":
        return None
    if bios == "default":
        if not DEFAULT_BIOS.exists():
            raise ConfigError(f"default firmware {DEFAULT_BIOS} is missing: install Debian's opensbi "
                              "package (scripts/setup.sh) or give --bios PATH")
        return str(DEFAULT_BIOS)
    return bios


def _create_board(args: argparse.Namespace, config: VmConfig, options: dict[str, str]):
    """The board ``args.machine`` names (machine/boards.py builds it), with the ``-M`` ``options``
    parse_machine gave; the command line's own rules and hints come first."""
    from polyvm.core.errors import UnsupportedError
    from polyvm.machine.boards import BootImages, create_board
    from polyvm.machine.virt import Drive
    from polyvm.net.cli_spec import is_net_device, parse_nics

    if args.machine == "microvm":
        if config.exec_mode is not ExecMode.ACCELERATED:
            raise UnsupportedError(f"-M microvm runs only with --exec-mode accelerated (KVM), not "
                                   f"{config.exec_mode.value}: there is no x86-64 interpreter or JIT yet")
        if args.bios not in (None, "none"):
            raise ConfigError("the microvm board has no firmware: drop --bios and boot a bzImage "
                              "with --kernel")
        if args.kernel is None:
            raise ConfigError("no guest given: use --kernel bzImage")
    bios = None if args.machine == "microvm" else _bios_path(args)
    if args.machine == "spike":
        if bios is not None:
            raise ConfigError("the spike board boots bare-metal programs only: use --bios none")
        if args.kernel is None:
            raise ConfigError("no guest given: use --kernel PATH")
    unknown = [spec for spec in args.device if not is_net_device(spec)]
    if unknown:
        raise ConfigError(f"unknown -device {unknown[0]!r} (supported: virtio-net-device)")
    images = BootImages(args.kernel, args.initrd, bios, args.append)
    return create_board(config, args.machine, images, [Drive.parse(spec) for spec in args.drive],
                        parse_nics(args.netdev, args.device), acpi=options.get("acpi", "on") == "on",
                        tohost=args.htif_tohost, fromhost=args.htif_fromhost)


def _exec_mode(args: argparse.Namespace) -> ExecMode:
    if args.exec_mode is None:
        return ExecMode.ACCELERATED if args.machine == "microvm" else ExecMode.HYBRID
    mode = ExecMode(args.exec_mode)
    if mode is ExecMode.ACCELERATED and args.machine != "microvm":
        raise ConfigError(f"--exec-mode accelerated runs x86-64 guests on KVM with -M microvm; "
                          f"-M {args.machine} is a RISC-V board (use interpreter, jit or hybrid)")
    return mode


def run_command(args: argparse.Namespace) -> int:
    from polyvm.console import HostConsole

    args.machine, options = parse_machine(args.machine)
    config = VmConfig(
        arch=GuestArch.X86_64 if args.machine == "microvm" else GuestArch.RISCV64,
        exec_mode=_exec_mode(args),
        memory_size=parse_size(args.memory),
        num_vcpu=args.smp,
        icount=args.icount,
    )
    board = _create_board(args, config, options)
    if args.dump_dtb:
        if not hasattr(board, "dtb"):
            raise ConfigError(f"board {args.machine} has no device tree")
        Path(args.dump_dtb).write_bytes(board.dtb())
        return 0
    board.console_sink = _write_console
    console = None
    quit_requested = threading.Event()
    uart = getattr(board, "uart", None)
    if uart is not None and sys.stdin is not None and not sys.stdin.closed:
        console = HostConsole(uart.push_input, lambda: (quit_requested.set(), board.stop()))
        console.start()
    started = time.monotonic()
    try:
        if args.gdb is None:
            if args.start_stopped:
                raise ConfigError("-S waits for a debugger: give -s or --gdb tcp::PORT too")
            result = board.run(max_instructions=args.max_instructions, timeout=args.timeout)
        else:
            result = _run_with_gdb(board, args, quit_requested)
    except KeyboardInterrupt:
        result = None
    finally:
        if console is not None:
            console.restore()
        close = getattr(board, "close", None)
        if close is not None:
            close()
    elapsed = time.monotonic() - started
    if args.stats:
        _print_stats(board, elapsed)
    if result is None:
        return 130
    if result.reason is ExitReason.HALTED:
        return result.exit_code or 0
    if hasattr(board, "exit_stats"):
        print(f"polyvm: stopped ({board.stop_reason})", file=sys.stderr)
    else:
        print(f"polyvm: stopped ({result.reason.value}) after {result.instructions} instructions",
              file=sys.stderr)
    return 0


def _run_with_gdb(board, args: argparse.Namespace, quit_requested: threading.Event) -> RunResult:
    """Run the guest on a worker thread with a GDB server beside it until the guest halts, GDB
    kills it, the console quits (Ctrl-A x) or ``--timeout`` passes."""
    from polyvm.gdb.server import GdbServer
    from polyvm.service.runner import MachineRunner

    if args.max_instructions is not None:
        raise ConfigError("--max-instructions cannot be combined with --gdb (use --timeout)")
    host, port = parse_gdb_address(args.gdb)
    runner = MachineRunner(board)
    killed = threading.Event()
    server = GdbServer(runner, port, host, on_kill=killed.set)
    server.start()
    print(f"polyvm: waiting for gdb on {host}:{server.port}"
          + (" (guest stopped until gdb continues it)" if args.start_stopped else ""), file=sys.stderr)
    if not args.start_stopped:
        runner.resume()
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    try:
        while not (killed.is_set() or quit_requested.is_set() or runner.halted or runner.error):
            if deadline is not None and time.monotonic() >= deadline:
                break
            runner.wait(0.05)
    finally:
        server.close()
        runner.pause()
    if runner.error is not None:
        raise runner.error
    if runner.halted:
        return runner.result
    return RunResult(ExitReason.STOPPED, instructions=board.instructions_executed())


def _print_stats(board, elapsed: float) -> None:
    if hasattr(board, "exit_stats"):
        exits = board.exit_stats()
        lines = [f"seconds: {elapsed:.3f}", f"stop reason: {board.stop_reason}",
                 f"kvm exits: {sum(exits.values())}"]
        lines += [f"kvm exits {name}: {count}" for name, count in sorted(exits.items(), key=lambda i: -i[1])]
        print("\n".join("polyvm: " + line for line in lines), file=sys.stderr)
        return
    executed = board.instructions_executed()
    mips = executed / elapsed / 1e6 if elapsed > 0 else 0.0
    lines = [f"instructions: {executed}", f"seconds: {elapsed:.3f}", f"mips: {mips:.2f}"]
    for name, stats in board.stats().items():
        cache, fuser, tlb = stats["block_cache"], stats["fuser"], stats["tlb"]
        lines.append(
            f"{name}: blocks translated {stats['blocks_translated']}, block cache hit rate "
            f"{cache.hit_rate:.3f}, fused pairs {fuser.fused_count}, tlb hits {tlb.hits} "
            f"misses {tlb.misses} evictions {tlb.evictions}"
        )
        if "jit" in stats:
            tiers, jit = stats["tiers"], stats["jit"]
            lines.append(
                f"{name}: blocks run natively {tiers['native_blocks']}, in python "
                f"{tiers['python_blocks']}, compiled {jit['blocks_compiled']} in "
                f"{jit['compile_time_ms']:.1f} ms, code cache {jit['code_cache_size']} bytes"
            )
            exits = ", ".join(f"{reason.lower()} {count}" for reason, count in sorted(jit["exits"].items()))
            lines.append(f"{name}: native side exits: {exits or 'none'}; loads and stores called back "
                         f"from native code {jit['memory_calls']}")
    print("\n".join("polyvm: " + line for line in lines), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            args = parser.parse_args(["run", "-M", "spike", "--bios", "none", "--kernel", str(DEMO_IMAGE)])
        return run_command(args)
    except VmError as err:
        print(f"polyvm: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
