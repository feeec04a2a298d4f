"""One container's process keeper, like containerd's shim: started by the kubelet as
``python -I -S shim.py SPEC.json`` in a session of its own, it starts the container's process,
writes its output to the container's log in the CRI format (``<RFC3339Nano> stdout F <line>``),
records its pid, exit code and times in a state file, and exits when the process has.

It is a standalone script (standard library only), so it starts fast and outlives a crash of the
sandbox service: the restarted kubelet finds it through the state file. It also stops its
container when the sandbox's state directory disappears (a test's temporary one), so nothing is
left running.

Isolation (``spec["isolation"]``):

- ``root`` (the service runs as root): new pid, mount, UTS and IPC namespaces. The container's
  process is pid 1 of its namespace and sees its own root: the host's system folders through a
  copy-on-write overlay (writes land in a tmpfs and vanish with the container), the image's own
  files on top, its volumes bind-mounted at their mount paths, its own ``/etc/hosts``,
  ``/etc/hostname`` and ``/etc/resolv.conf``, a fresh ``/proc``, ``/tmp`` and minimal ``/dev``.
  It then runs as the pod's user (65534 unless the pod asks otherwise) with no capability but
  ``CAP_NET_BIND_SERVICE`` (ambient) and ``no_new_privs``; where 65534 stands in for the image's
  root user (``spec["owner"]``), it owns ``/`` and the working directory, as root would.
- ``userns`` (a normal user where the kernel allows unprivileged user namespaces): the same, in
  a user namespace that maps the user to root inside; the process runs as that mapped root.
- ``none``: a plain process in its own session and process group, in the host's filesystem.

The network namespace is always the host's: pods reach each other and the Services on loopback
addresses.
"""

from __future__ import annotations

import ctypes
import json
import os
import platform
import selectors
import signal
import socket
import sys
import time
from typing import Any

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID = 0x10000000, 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_KEEPCAPS, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 8, 24, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, PR_CAP_AMBIENT_CLEAR_ALL = 47, 2, 4
CAP_VERSION_3 = 0x20080522
CAPS = {
    "chown": 0,
    "dac_override": 1,
    "fowner": 3,
    "fsetid": 4,
    "kill": 5,
    "setgid": 6,
    "setuid": 7,
    "setpcap": 8,
    "net_bind_service": 10,
    "net_raw": 13,
    "sys_chroot": 18,
    "mknod": 27,
    "audit_write": 29,
    "setfcap": 31,
}
PIVOT_ROOT = {"x86_64": 155, "amd64": 155, "aarch64": 41, "arm64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}
# the host's folders a container's root is made of, each as a copy-on-write overlay
SYSTEM_DIRS = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "var", "opt")
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
LINE_MAX = 16 * 1024  # a longer line is logged in parts ("P"), as the CRI does

_libc: Any = None


def libc() -> Any:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
        _libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
        _libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
        _libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        _libc.unshare.argtypes = [ctypes.c_int]
    return _libc


class ShimError(RuntimeError):
    pass


def check(result: int, what: str) -> None:
    if result != 0:
        raise ShimError(f"{what}: {os.strerror(ctypes.get_errno())}")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    def enc(s: str | None) -> bytes | None:
        return s.encode() if s is not None else None

    check(libc().mount(enc(source), enc(target), enc(fstype), flags, enc(data)), f"mount {target}")


def unshare(flags: int, what: str) -> None:
    check(libc().unshare(flags), what)


def rfc3339nano(t: float | None = None) -> str:
    t = time.time() if t is None else t
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int((t % 1) * 1e9):09d}Z"


def write_state(path: str, state: dict[str, Any]) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(state, fh)
    os.replace(tmp, path)


# -- the container's root ------------------------------------------------------------------
def makedirs(path: str, mode: int = 0o755) -> None:
    try:
        os.makedirs(path, mode=mode, exist_ok=True)
    except FileExistsError:
        pass


def bind(source: str, target: str, read_only: bool, recursive: bool = False) -> None:
    if os.path.isdir(source):
        makedirs(target)
    else:
        makedirs(os.path.dirname(target))
        if not os.path.lexists(target):
            open(target, "a").close()
    mount(source, target, None, MS_BIND | (MS_REC if recursive else 0))
    if read_only:  # nodev/noexec of the source's mount kept: in a user namespace they are locked (EPERM if dropped)
        kept = os.statvfs(target).f_flag & (MS_NODEV | MS_NOEXEC)  # ST_NODEV, ST_NOEXEC have the same values
        mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | kept)


def overlay(lowers: list[str], target: str, scratch: str, name: str) -> None:
    """``target`` shows ``lowers`` (first on top), its writes kept in ``scratch`` (a tmpfs)."""
    upper, work = f"{scratch}/upper/{name}", f"{scratch}/workdir/{name}"
    makedirs(upper)
    makedirs(work)
    makedirs(target)
    if len(lowers) == 1:
        os.chmod(upper, os.stat(lowers[0]).st_mode & 0o7777)
    mount("overlay", target, "overlay", MS_NOSUID, f"lowerdir={':'.join(lowers)},upperdir={upper},workdir={work}")


def build_root(spec: dict[str, Any]) -> str:
    """Make the container's root under ``spec['root']['base']`` (in our own mount namespace)."""
    base = spec["root"]["base"]
    layers = [p for p in spec["root"].get("layers", []) if os.path.isdir(p)]
    makedirs(base, 0o700)
    mount("tmpfs", base, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=256m")
    scratch, root = f"{base}/scratch", f"{base}/rootfs"
    makedirs(scratch, 0o700)
    makedirs(root)
    mount(root, root, None, MS_BIND)  # a mount point of its own, for pivot_root
    tops = list(SYSTEM_DIRS)
    for layer in layers:
        tops += [n for n in sorted(os.listdir(layer)) if n not in tops and os.path.isdir(f"{layer}/{n}")]
    for top in tops:
        host = f"/{top}"
        if top in SYSTEM_DIRS and os.path.islink(host):
            os.symlink(os.readlink(host), f"{root}/{top}")
            continue
        lowers = [f"{layer}/{top}" for layer in layers if os.path.isdir(f"{layer}/{top}")]
        if top in SYSTEM_DIRS and os.path.isdir(host):
            lowers.append(host)
        if lowers:
            overlay(lowers, f"{root}/{top}", scratch, top)
    for layer in layers:  # files at the top of an image (nginx's /docker-entrypoint.sh)
        for n in sorted(os.listdir(layer)):
            if os.path.isfile(f"{layer}/{n}") and not os.path.lexists(f"{root}/{n}"):
                bind(f"{layer}/{n}", f"{root}/{n}", read_only=True)
    for name, mode in (("tmp", "1777"), ("run", "755")):
        makedirs(f"{root}/{name}")
        mount("tmpfs", f"{root}/{name}", "tmpfs", MS_NOSUID | MS_NODEV, f"mode={mode},size=256m")
    dev = f"{root}/dev"
    makedirs(dev)
    mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=64k")
    for name in DEVICES:
        if os.path.exists(f"/dev/{name}"):
            bind(f"/dev/{name}", f"{dev}/{name}", read_only=False)
    for name, target in (
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ):
        os.symlink(target, f"{dev}/{name}")
    makedirs(f"{dev}/shm")
    mount("tmpfs", f"{dev}/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m")
    makedirs(f"{root}/proc")
    mount("proc", f"{root}/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    if os.path.isdir("/sys"):
        try:
            bind("/sys", f"{root}/sys", read_only=True)
        except ShimError:
            makedirs(f"{root}/sys")  # a user namespace may not bind it; the container goes without
    for b in spec["root"].get("binds", []):
        target = root + "/" + b["target"].lstrip("/")
        bind(b["source"], target, read_only=bool(b.get("readOnly")))
    for name in ("root", "home", "srv", "mnt"):  # after the binds: one may have made /root already (0755)
        if not os.path.isdir(f"{root}/{name}"):
            makedirs(f"{root}/{name}", 0o700 if name == "root" else 0o755)
    return root


def pivot(root: str) -> None:
    os.chdir(root)
    number = PIVOT_ROOT.get(platform.machine().lower())
    if number is None:
        raise ShimError(f"pivot_root is not known on {platform.machine()}")
    check(libc().syscall(number, b".", b"."), "pivot_root")
    check(libc().umount2(b".", MNT_DETACH), "detach the old root")
    os.chdir("/")


# -- privileges ----------------------------------------------------------------------------
def capset(bits: int) -> None:
    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    data = (Data * 2)()
    for i in range(2):
        word = (bits >> (32 * i)) & 0xFFFFFFFF
        data[i].effective = data[i].permitted = data[i].inheritable = word
    check(libc().capset(ctypes.byref(Header(CAP_VERSION_3, 0)), data), "capset")


def become(spec: dict[str, Any]) -> None:
    """Run as the pod's user with only the capabilities ``spec['caps']`` names (root mode only)."""
    uid = spec.get("uid")
    if uid is None or os.geteuid() != 0 or spec["isolation"] == "userns":
        return
    gid = uid if spec.get("gid") is None else int(spec["gid"])
    wanted = 0
    for name in spec.get("caps", []):
        wanted |= 1 << CAPS[name]
    prctl = libc().prctl
    try:
        last = int(open("/proc/sys/kernel/cap_last_cap").read())
    except (OSError, ValueError):
        last = 40
    for cap in range(last + 1):
        if not wanted & (1 << cap):
            prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0)
    os.setgroups([int(g) for g in spec.get("groups", [])])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    capset(wanted)
    if uid != 0:
        for name in spec.get("caps", []):
            check(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAPS[name], 0, 0), f"ambient {name}")
    check(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def map_user(uid: int, gid: int) -> None:
    """In a fresh user namespace: the invoking user is root inside."""
    with open("/proc/self/setgroups", "w") as fh:
        fh.write("deny")
    with open("/proc/self/uid_map", "w") as fh:
        fh.write(f"0 {uid} 1")
    with open("/proc/self/gid_map", "w") as fh:
        fh.write(f"0 {gid} 1")


# -- the child: becomes the container's process --------------------------------------------
def default_signals() -> None:
    """Every signal back to its default and none blocked: ignored ones would be inherited through exec
    (a shell cannot even trap a signal it started with ignored)."""
    for sig in range(1, signal.NSIG):
        if sig in (signal.SIGKILL, signal.SIGSTOP):
            continue
        try:
            signal.signal(sig, signal.SIG_DFL)
        except (OSError, ValueError):
            pass
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def child(spec: dict[str, Any], out_w: int, err_w: int, report_w: int) -> None:
    try:
        default_signals()
        os.setsid()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        isolated = spec["isolation"] in ("root", "userns")
        if isolated:
            unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC, "unshare(mount, uts, ipc)")
            mount(None, "/", None, MS_REC | MS_PRIVATE)
            root = build_root(spec)
            if spec.get("hostname"):
                socket.sethostname(spec["hostname"][:63])
            pivot(root)
        cwd = spec.get("cwd") or "/"
        if isolated:
            makedirs(cwd)
            owner = spec.get("owner")
            if owner and os.geteuid() == 0:  # the user standing in for the image's root owns / and its cwd
                for path in {"/", cwd}:
                    os.chown(path, int(owner[0]), int(owner[1]))
        become(spec)
        os.chdir(cwd)
        env = dict(spec["env"])
        argv = list(spec["argv"])
        os.execvpe(argv[0], argv, env)
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the shim as the start error
        message = str(exc)
        if isinstance(exc, FileNotFoundError) and "argv" in locals():
            message = f'exec: "{argv[0]}": executable file not found in $PATH'
        elif isinstance(exc, PermissionError) and "argv" in locals():
            message = f'exec: "{argv[0]}": permission denied'
        try:
            os.write(report_w, message.encode("utf-8", "replace")[:4000])
        finally:
            os._exit(127)


# -- the shim: logs, state, exit ----------------------------------------------------------
class Log:
    """The container's log in the CRI format, one line per write, partial lines tagged ``P``."""

    def __init__(self, path: str) -> None:
        self.fh = open(path, "ab", buffering=0)
        self.rest = {"stdout": b"", "stderr": b""}

    def feed(self, stream: str, data: bytes) -> None:
        buf = self.rest[stream] + data
        lines = buf.split(b"\n")
        self.rest[stream] = lines.pop()
        out = []
        stamp = rfc3339nano().encode()
        for line in lines:
            while len(line) > LINE_MAX:
                out.append(stamp + b" " + stream.encode() + b" P " + line[:LINE_MAX] + b"\n")
                line = line[LINE_MAX:]
            out.append(stamp + b" " + stream.encode() + b" F " + line + b"\n")
        while len(self.rest[stream]) > LINE_MAX:
            part, self.rest[stream] = self.rest[stream][:LINE_MAX], self.rest[stream][LINE_MAX:]
            out.append(stamp + b" " + stream.encode() + b" P " + part + b"\n")
        if out:
            self.fh.write(b"".join(out))

    def close(self) -> None:
        for stream, rest in self.rest.items():
            if rest:
                self.fh.write(rfc3339nano().encode() + b" " + stream.encode() + b" F " + rest + b"\n")
        self.fh.close()


def exit_code(status: int) -> tuple[int, str]:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        return 128 + sig, f"signal {sig}"
    return os.WEXITSTATUS(status), ""


def run(spec: dict[str, Any]) -> int:
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)  # the kubelet signals the container's group, not us
    state_path = spec["state"]
    state: dict[str, Any] = {"shim": os.getpid(), "running": False, "containerID": spec.get("containerID", "")}
    log = Log(spec["log"])
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    report_r, report_w = os.pipe()
    os.set_inheritable(report_w, False)
    os.set_blocking(report_w, True)
    if spec["isolation"] == "userns":
        uid, gid = os.getuid(), os.getgid()
        unshare(CLONE_NEWUSER, "unshare(user)")
        map_user(uid, gid)
    if spec["isolation"] in ("root", "userns"):
        unshare(CLONE_NEWPID, "unshare(pid)")
    started = time.time()
    pid = os.fork()
    if pid == 0:
        os.close(out_r)
        os.close(err_r)
        os.close(report_r)
        child(spec, out_w, err_w, report_w)
    for fd in (out_w, err_w, report_w):
        os.close(fd)
    report = b""
    while True:
        chunk = os.read(report_r, 4096)
        if not chunk:
            break
        report += chunk
    os.close(report_r)
    if report:
        os.waitpid(pid, 0)
        log.close()
        now = time.time()
        state.update(
            exitCode=128,
            reason="StartError",
            message=report.decode("utf-8", "replace"),
            startedAt=started,
            finishedAt=now,
        )
        write_state(state_path, state)
        return 0
    state.update(pid=pid, running=True, startedAt=started)
    write_state(state_path, state)
    sel = selectors.DefaultSelector()
    sel.register(out_r, selectors.EVENT_READ, "stdout")
    sel.register(err_r, selectors.EVENT_READ, "stderr")
    watch = spec.get("watch")
    status: int | None = None
    next_watch = time.monotonic() + 2
    drain_until: float | None = None
    while sel.get_map():
        for key, _ in sel.select(timeout=0.5):
            data = os.read(key.fd, 65536)
            if data:
                log.feed(key.data, data)
            else:
                sel.unregister(key.fd)
                os.close(key.fd)
        if status is None:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
                try:
                    os.killpg(pid, signal.SIGKILL)  # what the process left behind goes with it
                except OSError:
                    pass
                drain_until = time.monotonic() + 2
        elif drain_until is not None and time.monotonic() > drain_until:
            break  # a process that left its session keeps the pipe open: stop reading it
        if watch and time.monotonic() > next_watch:
            next_watch = time.monotonic() + 2
            if not os.path.exists(watch):
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
    if status is None:
        _, status = os.waitpid(pid, 0)
    log.close()
    code, why = exit_code(status)
    state.update(running=False, exitCode=code, signal=why, finishedAt=time.time())
    if os.path.exists(os.path.dirname(state_path)):
        write_state(state_path, state)
    return 0


def join(spec: dict[str, Any]) -> int:
    """Run ``spec['argv']`` inside the running container whose first process is ``spec['join']``
    (its namespaces, root, user and environment), with this process's stdin/stdout/stderr; return
    its exit code. Used for exec probes (and ``kubectl exec``)."""
    pid = int(spec["join"])
    if spec["isolation"] in ("root", "userns"):
        libc().setns.argtypes = [ctypes.c_int, ctypes.c_int]
        kinds = (["user"] if spec["isolation"] == "userns" else []) + ["ipc", "uts", "pid", "mnt"]
        fds = {k: os.open(f"/proc/{pid}/ns/{k}", os.O_RDONLY) for k in kinds}
        for kind in kinds:
            check(libc().setns(fds[kind], 0), f"setns({kind})")
            os.close(fds[kind])
    child_pid = os.fork()
    if child_pid == 0:
        try:
            default_signals()
            os.chdir("/")
            become(spec)
            os.chdir(spec.get("cwd") or "/")
            argv = list(spec["argv"])
            os.execvpe(argv[0], argv, dict(spec["env"]))
        except FileNotFoundError:
            os.write(2, f'exec: "{spec["argv"][0]}": executable file not found in $PATH\n'.encode())
            os._exit(127)
        except BaseException as exc:  # noqa: BLE001
            os.write(2, f"{exc}\n".encode())
            os._exit(126)
    _, status = os.waitpid(child_pid, 0)
    return exit_code(status)[0]


def probe() -> dict[str, Any]:
    """What this machine allows, tried for real: ``{"isolation": "root"|"userns"|"none", "why": ...}``."""
    import tempfile

    if not sys.platform.startswith("linux"):
        return {"isolation": "none", "why": f"namespaces need Linux, this is {sys.platform}"}
    tries = ["root"] if os.geteuid() == 0 else ["userns"]
    why = ""
    for mode in tries:
        with tempfile.TemporaryDirectory(prefix="lab-kubelet-probe-") as tmp:
            spec = {
                "argv": ["/bin/sh", "-c", "cat /etc/hostname; id -u"],
                "env": {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
                "isolation": mode,
                "hostname": "probe",
                "uid": 65534,
                "gid": 65534,
                "caps": ["net_bind_service"],
                "root": {"base": f"{tmp}/root", "layers": [], "binds": []},
                "log": f"{tmp}/log",
                "state": f"{tmp}/state.json",
            }
            pid = os.fork()
            if pid == 0:
                try:
                    os.setsid()
                    devnull = os.open(os.devnull, os.O_WRONLY)
                    os.dup2(devnull, 2)
                    run(spec)
                    os._exit(0)
                except BaseException as exc:  # noqa: BLE001
                    with open(f"{tmp}/error", "w") as fh:
                        fh.write(str(exc))
                    os._exit(1)
            os.waitpid(pid, 0)
            try:
                with open(f"{tmp}/state.json") as fh:
                    state = json.load(fh)
            except (OSError, ValueError):
                state = {}
            try:
                with open(f"{tmp}/error") as fh:
                    why = fh.read()
            except OSError:
                why = state.get("message", "") or why
            if state.get("exitCode") == 0:
                return {"isolation": mode, "why": ""}
            why = why or state.get("message") or f"exit {state.get('exitCode')}"
    return {"isolation": "none", "why": why}


def main(argv: list[str]) -> int:
    if argv[1:] == ["--probe"]:
        print(json.dumps(probe()))
        return 0
    if len(argv) == 3 and argv[1] == "--exec":
        with open(argv[2], encoding="utf-8") as fh:
            return join(json.load(fh))
    with open(argv[1], encoding="utf-8") as fh:
        spec = json.load(fh)
    try:
        return run(spec)
    except ShimError as exc:
        write_state(spec["state"], {"running": False, "exitCode": 128, "reason": "StartError", "message": str(exc)})
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
