"""The Python side of a C helper: :class:`NativeFlash` (a SimulatedFlash whose image and
counters the C code shares) and :class:`Proc` (one helper process: a boot or a checkpoint).

A power cut stops the C code inside the interrupted flash call: the runtime hands that call to
this process, the SimulatedFlash tears it exactly as it tears a Python store's operation and
raises PowerLoss, the C process is told the power is gone and exits; :meth:`Proc.call` then
raises that PowerLoss. A reboot is a fresh copy of the zygote (pristine statics and heap).
"""

from __future__ import annotations

import errno
import mmap
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import weakref
from pathlib import Path

from ..device import SimulatedFlash
from ..errors import FlashError, NotSupported, PowerLoss
from . import protocol as P

__all__ = ["CALL_TIMEOUT_S", "CCodeError", "NativeFlash", "Proc", "c_cpu_seconds"]

CALL_TIMEOUT_S = 30.0  # a C call that takes longer is reported as hung
_C_CPU_US = [0]  # CPU time of the helper processes of every NativeFlash cleaned up so far


def c_cpu_seconds() -> float:
    """CPU seconds used by the C helper processes of this Python process's NativeFlash
    devices that were closed or collected (each process adds its own time when it ends)."""
    return _C_CPU_US[0] / 1e6


class CCodeError(FlashError):
    """The C code under test crashed, exited or hung (EFAULT); the message says which and
    quotes the end of its log."""

    default_errno = errno.EFAULT


def _tmp_root() -> str | None:
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


class NativeFlash(SimulatedFlash):
    """A :class:`SimulatedFlash` shared with C helper processes started from ``helper``.

    Same arguments as SimulatedFlash (an image file in a private temporary directory backs
    it); ``address`` maps the image at that absolute address in the helper (memory-mapped
    flash, e.g. LLKERNEL's KF region), None lets the system choose. Plain writes, erases and
    reads of the C code are done by the C runtime under the same rules; the cut operation and
    every operation while endurance, thresholds, timing or stuck bits are active are done here.
    """

    change_tracking = False  # the C runtime writes the image behind Python's back (DEV-49)

    def __init__(self, helper: str | os.PathLike, *, address: int | None = None, **kw):
        self._tmp = tempfile.mkdtemp(prefix="flashstack-c-", dir=_tmp_root())
        kw.pop("backing", None)
        super().__init__(backing=os.path.join(self._tmp, "image.bin"), **kw)
        self.helper = Path(helper)
        self.address = address
        pages = list(self.layout.pages())
        lay = P.layout(self.layout.size, len(pages))
        self._lay = lay
        ctl_path = os.path.join(self._tmp, "control.bin")
        with open(ctl_path, "wb") as f:
            f.truncate(lay["total"])
        self._ctl_file = open(ctl_path, "r+b")  # noqa: SIM115 - lives as long as the mmap
        self._ctl = mmap.mmap(self._ctl_file.fileno(), lay["total"])
        self._ctl_path = ctl_path
        head = dict.fromkeys(P.FIELDS, 0)
        head.update(magic=P.MAGIC, size=self.layout.size, wbs=self.parameters.write_block_size,
                    erase_value=self.parameters.erase_value, explicit_erase=int(self._explicit),
                    allow_double=int(self.allow_double_writes), unaligned_read=int(self.unaligned_read),
                    page_count=len(pages), address=address or 0, scratch_cap=P.SCRATCH,
                    program_page_size=self.program_page_size,
                    **{k: lay[k] for k in ("pages_off", "cycles_off", "cb_off", "scratch_off")})
        P.CTL.pack_into(self._ctl, 0, *(head[k] for k in P.FIELDS))
        starts = [p.start_offset for p in pages] + [self.layout.size]
        self._ctl[lay["pages_off"]:lay["pages_off"] + 4 * len(starts)] = b"".join(
            P.U32.pack(s) for s in starts)
        self._npages = len(pages)
        self._zygote: Proc | None = None
        self._popen: subprocess.Popen | None = None
        self._listener: socket.socket | None = None
        self._loss: PowerLoss | None = None
        self.probe_keys: set = set()  # keys a store that cannot list them is asked for
        self._config: tuple = ()
        self._finalizer = weakref.finalize(self, _cleanup, os.getpid(), self._tmp,
                                           [None, None, None, self._ctl])

    # --- control block --------------------------------------------------------------------
    def _set(self, name: str, value: int) -> None:
        P.U32.pack_into(self._ctl, P.OFF[name], value)

    def _get(self, name: str) -> int:
        return P.U32.unpack_from(self._ctl, P.OFF[name])[0]

    def _push_config(self) -> None:
        slow = (self.endurance is not None or self.timing is not None or bool(self._stuck.pages)
                or not self.erase_supported or self.readonly
                or any((self.thresholds.max_write_calls, self.thresholds.max_erase_calls)))
        config = (int(slow), int(self.unaligned_read), int(self.allow_double_writes))
        if config != self._config:  # set once per change, not on every call
            self._config = config
            for name, value in zip(("slow", "unaligned_read", "allow_double"), config):
                self._set(name, value)

    def _pull(self) -> None:
        """Counters of the C runtime into :attr:`stats` and the armed cut."""
        st = self.stats
        (st.bytes_read, st.bytes_written, st.double_writes, st.flash_read_calls,
         st.flash_write_calls, st.flash_erase_calls) = P.COUNTERS.unpack_from(self._ctl, P.OFF["bytes_read"])
        off = self._lay["cycles_off"]
        st.erase_cycles[:] = memoryview(self._ctl)[off:off + 4 * self._npages].cast("I").tolist()
        if self._cut is not None:
            self._cut.count = self._get("count")

    def _push(self) -> None:
        """:attr:`stats` and the armed cut into the control block (after a Python-side op)."""
        st = self.stats
        P.COUNTERS.pack_into(self._ctl, P.OFF["bytes_read"], st.bytes_read, st.bytes_written,
                             st.double_writes, st.flash_read_calls, st.flash_write_calls,
                             st.flash_erase_calls)
        off = self._lay["cycles_off"]
        memoryview(self._ctl)[off:off + 4 * self._npages].cast("I")[:] = \
            memoryview(bytearray(b"".join(P.U32.pack(c) for c in st.erase_cycles))).cast("I")
        cut = self._cut
        self._set("counting", int(cut is not None))
        self._set("after", (cut.after or 0) if cut is not None else 0)
        self._set("count", cut.count if cut is not None else 0)

    # --- the device API: keep both sides' counters in step ----------------------------------
    def arm_power_cut(self, after, mode="clean", tear="prefix", keep=None, seed=0) -> None:
        if mode == "torn" and tear == "unstable":   # reads happen in C: no random bits there
            raise NotSupported(f"{self.name}: native devices tear 'prefix' or 'bits', "
                               "not 'unstable'")
        self._pull()
        super().arm_power_cut(after, mode, tear, keep, seed)
        # the C runtime tears with the same seeded arithmetic (checked against this class in
        # tests/native); seeds it does not take are torn here, on a callback
        code = P.TEAR_CODES[(mode, tear)] if 0 <= seed < 1 << 32 else P.TEAR_IN_PYTHON
        for name, value in (("tear", code), ("seed", seed if code != P.TEAR_IN_PYTHON else 0),
                            ("keep_set", int(keep is not None)), ("keep", min(keep or 0, 0xFFFFFFFF))):
            self._set(name, value)
        self._push()

    def disarm(self) -> None:
        self._pull()
        super().disarm()
        self._push()

    def power_restore(self) -> None:
        self._pull()
        super().power_restore()
        self._loss = None
        self._push()

    @property
    def ops_since_arm(self) -> int:
        self._pull()
        return self._cut.count if self._cut else 0

    def read(self, off: int, n: int) -> bytes:
        self._pull()
        try:
            return super().read(off, n)
        finally:
            self._push()

    def write(self, off: int, data) -> None:
        self._pull()
        try:
            super().write(off, data)
        finally:
            self._push()

    def erase(self, off: int, n: int) -> None:
        self._pull()
        try:
            super().erase(off, n)
        finally:
            self._push()

    # --- helper processes ---------------------------------------------------------------------
    def boot(self) -> Proc:
        """A fresh helper process (a reboot: pristine globals, statics and heap)."""
        return self.zygote().fork()

    def zygote(self) -> Proc:
        """The helper process that never runs user code: its copies are fresh boots."""
        if self._zygote is None:
            self._start()
        assert self._zygote is not None
        return self._zygote

    def _start(self) -> None:
        path = os.path.join(self._tmp, "s")
        lst = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        lst.bind(path)
        lst.listen(16)
        lst.settimeout(CALL_TIMEOUT_S)
        self._listener = lst
        with open(os.path.join(self._tmp, "helper.log"), "ab") as log:
            self._popen = subprocess.Popen([str(self.helper), path, str(self.path), self._ctl_path],
                                           stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                           start_new_session=True)
        self._zygote = Proc(self, self.accept(self._popen.pid), self._popen.pid)
        if self._zygote._recv("start")[0] != P.R_HELLO:
            raise CCodeError(f"C helper {self.helper} did not start properly{self.log_tail()}")
        self._finalizer.detach()
        self._finalizer = weakref.finalize(self, _cleanup, os.getpid(), self._tmp,
                                           [self._popen, lst, self._zygote.sock, self._ctl])

    def accept(self, pid: int) -> socket.socket:
        assert self._listener is not None
        try:
            conn, _ = self._listener.accept()
        except TimeoutError:
            raise CCodeError(f"C helper {self.helper} (pid {pid}) did not connect within "
                             f"{CALL_TIMEOUT_S:.0f} s{self.log_tail()}") from None
        # a kernel receive timeout: a blocking recv is one system call (settimeout adds a poll)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO,
                        struct.pack("ll", int(CALL_TIMEOUT_S), int(CALL_TIMEOUT_S % 1 * 1e6)))
        return conn

    def log_tail(self, lines: int = 12) -> str:
        """The last lines the C code printed (stderr/stdout), for error messages."""
        try:
            with open(os.path.join(self._tmp, "helper.log"), "rb") as f:
                text = f.read()[-4000:].decode("utf-8", "replace").strip()
        except OSError:
            return ""
        return ("; its output ends with:\n" + "\n".join(text.splitlines()[-lines:])) if text else ""

    def close(self) -> None:
        self._finalizer()
        super().close()

    def _c_cut(self) -> PowerLoss:
        """The PowerLoss of a cut the C runtime performed (SimulatedFlash._died's message)."""
        self._pull()
        kind = "write" if self._get("cut_kind") == P.CB_WRITE else "erase"
        off, n, applied = self._get("cut_off"), self._get("cut_len"), self._get("cut_applied")
        cut = self._cut
        assert cut is not None
        detail = (f"{applied} {'byte(s) kept' if cut.tear == 'prefix' else 'bit(s) applied'}"
                  if kind == "write" else f"{applied} page(s) erased or partly erased")
        try:
            self._died(kind, off, n, applied, detail)
        except PowerLoss as loss:
            return loss
        raise AssertionError("SimulatedFlash._died did not raise")

    def _c_op(self, kind: int, off: int, n: int) -> int:
        """Perform a flash operation the C runtime handed over; 0, -errno, or DEAD after a cut."""
        try:
            if kind == P.CB_WRITE:
                start = self._lay["cb_off"]
                data = bytes(self._ctl[start:start + n])
                if self._cut is not None and self._cut.after is not None and not self._get("slow"):
                    self._cut.count = self._cut.after - 1  # the C side stopped right before it
                    self._push()
                self.write(off, data)
            elif kind == P.CB_ERASE:
                if self._cut is not None and self._cut.after is not None and not self._get("slow"):
                    self._cut.count = self._cut.after - 1
                    self._push()
                self.erase(off, n)
            else:
                self.read(off, n)
        except PowerLoss as loss:
            self._loss = loss
            return P.DEAD
        except FlashError as exc:
            return -(exc.errno or errno.EIO)
        return 0


def _cleanup(owner: int, tmp: str, live: list) -> None:
    if os.getpid() != owner:  # a forked worker inherited this device: not its to clean
        return
    popen, lst, zygote, ctl = live
    if lst is not None:
        lst.close()
    if zygote is not None:
        zygote.close()  # the zygote ends by itself, adding its CPU time
    if popen is not None:
        try:
            popen.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            pass
        _stop_group(popen.pid)
        popen.wait()
    if ctl is not None and not ctl.closed:
        _C_CPU_US[0] += struct.unpack_from("<Q", ctl, P.OFF["cpu_us"])[0]
    shutil.rmtree(tmp, ignore_errors=True)


def _stop_group(pgid: int) -> None:
    """Let the copies whose connection closed end (they add their CPU time), then kill any
    left (a hung C call)."""
    for _ in range(100):
        try:
            os.killpg(pgid, 0)
        except OSError:
            return
        time.sleep(0.01)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass


class Proc:
    """One helper process. :meth:`call` runs a driver operation; :meth:`fork` copies the
    process (a checkpoint of its RAM), optionally running a first call in the copy at once
    (one message instead of two). Closing the connection ends the process."""

    def __init__(self, dev: NativeFlash, sock: socket.socket, pid: int = 0):
        self.dev = dev
        self.sock = sock
        self.pid = pid  # known from the process's first message
        self._fin = weakref.finalize(self, sock.close)
        self.pending: weakref.WeakSet = weakref.WeakSet()  # lazy copies (see CStore) of this RAM

    def close(self) -> None:
        self._fin()

    def _recv(self, what: str) -> tuple:
        try:
            data = self.sock.recv(64)
        except (TimeoutError, BlockingIOError):  # SO_RCVTIMEO ran out
            if self.pid:
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except OSError:
                    pass
            self.close()
            raise CCodeError(f"the C code did not return from {what} within {CALL_TIMEOUT_S:.0f} s "
                             f"(hung){self.dev.log_tail()}") from None
        if len(data) != P.MSG.size:
            self.close()
            raise CCodeError(f"the C code exited during {what} (exit() or _exit() called?)"
                             f"{self.dev.log_tail()}")
        msg = P.MSG.unpack(data)
        self.pid = msg[5]
        return msg[:5]

    def _send(self, op: int, a: int = 0, b: int = 0, c: int = 0, n: int = 0) -> None:
        if not self._fin.alive:
            raise CCodeError(f"the C process {self.pid} has ended (a power cut, a crash or closed): "
                             "its boot is over")
        self.sock.send(P.MSG.pack(op, a, b, c, n, 0))

    def _stage(self, payload: bytes, steps_done: int, interrupted: int, what: str) -> None:
        """Request payload and context into the control block, before a call is sent."""
        dev = self.dev
        if len(payload) > P.SCRATCH // 2:
            raise CCodeError(f"{what}: request of {len(payload)} bytes exceeds {P.SCRATCH // 2}")
        start = dev._lay["scratch_off"]
        dev._ctl[start:start + len(payload)] = payload
        P.U32.pack_into(dev._ctl, P.OFF["steps_done"], steps_done)
        P.U32.pack_into(dev._ctl, P.OFF["interrupted"], interrupted)
        dev._push_config()

    def fork(self, op: int = 0, a: int = 0, b: int = 0, payload: bytes = b"", steps_done: int = 0,
             interrupted: int = 0, what: str = "a call") -> Proc:
        """A copy of this process (a fresh boot when this is the zygote). With ``op`` the copy
        runs that call first: collect its result with :meth:`result`."""
        if op:
            self._stage(payload, steps_done, interrupted, what)
        self._send(P.Q_FORK, op, a, b, len(payload))
        child = Proc(self.dev, self.dev.accept(self.pid))
        if not op:
            kind = child._recv("fork")[0]
            if kind != P.R_HELLO:
                raise CCodeError(f"unexpected message {kind} from a new C helper process")
        return child

    def call(self, op: int, a: int = 0, b: int = 0, payload: bytes = b"", steps_done: int = 0,
             interrupted: int = 0, what: str = "a call") -> tuple[int, bytes]:
        """Run driver operation ``op``; ``(return code, response payload)``. PowerLoss when
        the power was cut inside it; CCodeError when the C code crashed, exited or hung."""
        for copy in list(self.pending):  # copies of the RAM as it is now: fork them first
            copy.materialize()
        self._stage(payload, steps_done, interrupted, what)
        self._send(P.Q_CALL, op, a, b, len(payload))
        return self.result(what)

    def result(self, what: str) -> tuple[int, bytes]:
        """Wait for the call in progress (see :meth:`call`), serving the runtime's requests."""
        dev = self.dev
        while True:
            kind, x, y, z, n = self._recv(what)
            if kind == P.R_DONE:
                dev._pull()
                out = dev._lay["scratch_off"] + P.SCRATCH // 2
                return x, bytes(dev._ctl[out:out + n])
            if kind == P.R_CB:
                rc = dev._c_op(x, y, z)
                self._send(P.Q_CBREPLY, rc)
                if rc == P.DEAD:
                    loss = dev._loss
                    self.close()
                    assert loss is not None
                    raise loss
                continue
            if kind == P.R_CUT:
                self.close()
                raise dev._c_cut()
            if kind == P.R_CRASH:
                self.close()
                name = signal.Signals(x).name if x in signal.Signals._value2member_map_ else str(x)
                raise CCodeError(f"the C code crashed with {name} during {what}{dev.log_tail()}")
            raise CCodeError(f"unexpected message {kind} from the C helper during {what}")
