"""virtio-blk (device id 2) backed by a raw disk image file (seed section 5.1).

The image is opened once and locked (shared for read-only use, exclusive for read-write, like
QEMU's image locking); it is only ever modified by guest OUT requests inside its capacity, and
``flush()`` / ``close()`` push those writes to disk with fsync.
"""

from __future__ import annotations

import fcntl
import os
import struct
import threading

from polyvm.core.errors import DeviceError
from polyvm.device.irq import IrqLine
from polyvm.device.virtio.device import VirtioDevice
from polyvm.device.virtio.mmio import VirtioMmio
from polyvm.device.virtio.queue import DescriptorChain, MalformedRing
from polyvm.mem.ram import GuestRam

DEVICE_ID = 2
SECTOR_SIZE = 512
QUEUE_SIZE = 256
ID_BYTES = 20
HEADER = struct.Struct("<IIQ")

F_SEG_MAX = 1 << 2
F_RO = 1 << 5
F_BLK_SIZE = 1 << 6
F_FLUSH = 1 << 9

T_IN = 0
T_OUT = 1
T_FLUSH = 4
T_GET_ID = 8
S_OK = 0
S_IOERR = 1
S_UNSUPP = 2


class VirtioBlock(VirtioDevice):
    """A virtio disk on the image at ``path``; ``capacity()`` is in 512-byte sectors."""

    device_id = DEVICE_ID
    queue_sizes = (QUEUE_SIZE,)

    def __init__(self, path: str | os.PathLike[str], readonly: bool = False, serial: str = "") -> None:
        self.path = os.fspath(path)
        self.serial = serial.encode()[:ID_BYTES]
        self._lock = threading.RLock()
        self._fd: int | None = None
        self.readonly = readonly
        self._open(readonly)

    def _open(self, readonly: bool) -> None:
        if not os.path.exists(self.path):
            raise DeviceError(f"disk image {self.path} does not exist")
        if os.path.isdir(self.path):
            raise DeviceError(f"disk image {self.path} is a directory")
        try:
            fd = os.open(self.path, os.O_RDONLY if readonly else os.O_RDWR)
        except OSError as error:
            mode = "reading" if readonly else "reading and writing"
            raise DeviceError(f"cannot open disk image {self.path} for {mode}: {error.strerror}") from None
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if readonly else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise DeviceError(f"disk image {self.path} is locked by another process") from None
        size = os.fstat(fd).st_size
        if size < SECTOR_SIZE:
            os.close(fd)
            raise DeviceError(f"disk image {self.path} is smaller than one {SECTOR_SIZE}-byte sector")
        self._fd = fd
        self._capacity = size // SECTOR_SIZE

    def capacity(self) -> int:
        return self._capacity

    def set_readonly(self, readonly: bool) -> None:
        """Switch between read-only and read-write (takes effect for the next driver reset)."""
        with self._lock:
            if readonly == self.readonly:
                return
            self.close()
            try:
                self._open(readonly)
            except DeviceError:
                self._open(self.readonly)
                raise
            self.readonly = readonly

    def flush(self) -> None:
        with self._lock:
            if self._fd is not None and not self.readonly:
                os.fsync(self._fd)

    def close(self) -> None:
        """Flush and release the image (idempotent)."""
        with self._lock:
            if self._fd is not None:
                if not self.readonly:
                    os.fsync(self._fd)
                os.close(self._fd)
                self._fd = None

    def device_features(self) -> int:
        return F_SEG_MAX | F_BLK_SIZE | F_FLUSH | (F_RO if self.readonly else 0)

    def config_space(self) -> bytes:
        return struct.pack("<QIIII", self._capacity, 0, QUEUE_SIZE - 2, 0, SECTOR_SIZE)

    def handle(self, queue_index: int, chain: DescriptorChain, ram: GuestRam) -> int:
        if chain.writable_len < 1:
            raise MalformedRing("virtio-blk request without a status byte")
        data_len = chain.writable_len - 1
        request = chain.read(ram)
        if len(request) < HEADER.size:
            status, written = S_IOERR, 0
        else:
            kind, _, sector = HEADER.unpack_from(request)
            with self._lock:
                status, written = self._serve(kind, sector, request[HEADER.size :], data_len, chain, ram)
        chain.write(ram, data_len, bytes((status,)))
        return written + 1

    def _serve(
        self,
        kind: int,
        sector: int,
        payload: bytes,
        data_len: int,
        chain: DescriptorChain,
        ram: GuestRam,
    ) -> tuple[int, int]:
        """Status and bytes written for one request."""
        if self._fd is None:
            return S_IOERR, 0
        if kind == T_IN:
            if not self._in_bounds(sector, data_len):
                return S_IOERR, 0
            data = os.pread(self._fd, data_len, sector * SECTOR_SIZE)
            chain.write(ram, 0, data)
            return (S_OK, data_len) if len(data) == data_len else (S_IOERR, len(data))
        if kind == T_OUT:
            if self.readonly or not self._in_bounds(sector, len(payload)):
                return S_IOERR, 0
            written = os.pwrite(self._fd, payload, sector * SECTOR_SIZE)
            return (S_OK if written == len(payload) else S_IOERR), 0
        if kind == T_FLUSH:
            if not self.readonly:
                os.fsync(self._fd)
            return S_OK, 0
        if kind == T_GET_ID:
            ident = self.serial.ljust(ID_BYTES, b"\0")[:data_len]
            chain.write(ram, 0, ident)
            return S_OK, len(ident)
        return S_UNSUPP, 0

    def _in_bounds(self, sector: int, length: int) -> bool:
        return length % SECTOR_SIZE == 0 and sector * SECTOR_SIZE + length <= self._capacity * SECTOR_SIZE


class VirtioBlockMmio(VirtioMmio):
    """The seed's ``VirtioBlockMmio``: a virtio-mmio window serving one ``VirtioBlock``."""

    def __init__(self, block: VirtioBlock, ram: GuestRam, irq: IrqLine, version: int = 2) -> None:
        super().__init__(block, ram, irq, version)
        self.block = block
