"""A fresh, minimal root for one learner process, and dropping every privilege before it runs.

Used by :mod:`.kernel_launcher` as root inside the submission's namespaces. The launcher makes a
new mount namespace, builds a root on a tmpfs that holds only what a lab needs (the system
folders read-only, the Python environment read-only at its own paths, the grader's kubectl and
helm read-only where ``LAB_TOOLS_DIR`` names them, a minimal ``/dev`` with a devpts instance of its
own (terminals for ``!cmd`` cells, never the host's), a
``/proc`` of the submission's pid namespace that hides other users' processes, a tmpfs ``/tmp``
and the submission's own folder read-write), pivots into it and detaches the old root. Nothing of
the grader's files (the key, the output folder, other submissions) is mounted there, so there
is nothing to uncover by unmounting. It then drops to an unprivileged uid with no capabilities
in any set and ``no_new_privs``, and checks that it did before the learner's code runs.
"""

from __future__ import annotations

import ctypes
import json
import os
import platform
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

# read-only system folders a lab runs tools from (/bin/sh, git, later kubectl and helm)
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/sys")
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
GPU_DEVICE_PREFIXES = ("nvidia", "dri")

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_KEEPCAPS, PR_CAPBSET_DROP, PR_SET_SECUREBITS = 8, 24, 28
PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 38, 47, 4
# noroot (+locked), setuid fixup kept (locked), keep-caps off (locked), no ambient raise (locked)
SECUREBITS = (1 << 0) | (1 << 1) | (1 << 3) | (1 << 5) | (1 << 6) | (1 << 7)
_PIVOT_ROOT = {"x86_64": 155, "amd64": 155, "aarch64": 41, "arm64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}
_CAP_VERSION_3 = 0x20080522

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


class JailError(RuntimeError):
    """The fresh root or the privilege drop could not be made; the learner's code must not run."""


@dataclass
class JailSpec:
    """What one jailed process may see; written by the worker, read by the launcher (both root)."""

    base: str  # a root-only folder where the new root's mount point is made
    read_only: list[str] = field(default_factory=list)  # bound at the same path, read-only
    read_write: list[str] = field(default_factory=list)  # the submission's own folder
    empty_dirs: list[str] = field(default_factory=list)  # made empty (e.g. the checkout's labs/ next to data/)
    masks: list[str] = field(default_factory=list)  # covered again if they fall inside a bound folder

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> JailSpec:
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise JailError(f"{what}: {os.strerror(err)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    def enc(s: str | None) -> bytes | None:
        return s.encode() if s is not None else None

    _check(_libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)), f"mount {target}")


def _prctl(option: int, arg: int = 0) -> int:
    return _libc.prctl(option, arg, 0, 0, 0)


def environment_paths() -> tuple[list[str], list[str]]:
    """(read-only paths, empty dirs) this interpreter and the course need, besides the system folders.

    The environment is bound at its own paths, so a venv under a private home (0700) is readable
    inside the root even though uid 65534 cannot traverse the home outside it. From a checkout of
    the course only ``lab_helpers/`` and ``data/`` are bound (``labs/`` is an empty folder), never
    the script's folder or the current directory (``sys.path[0]``), which may hold the key.
    """
    import lab_helpers

    package = Path(lab_helpers.__file__).resolve().parent
    checkout = package.parent
    paths: list[str] = []
    for p in (sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix):
        paths += [os.path.abspath(p), os.path.realpath(p)]
    paths.append(str(Path(os.path.realpath(sys.executable)).parent.parent))
    empty: list[str] = []
    covered = [Path(p) for p in paths] + [Path(p) for p in SYSTEM_DIRS]
    for entry in sys.path[1:]:
        if not entry or not os.path.isdir(entry):
            continue
        real = Path(os.path.realpath(entry))
        if any(real == c or c in real.parents for c in covered):
            continue
        if real == checkout:
            paths += [str(package)]
            if (checkout / "data").is_dir():
                paths.append(str(checkout / "data"))
                empty.append(str(checkout / "labs"))
            continue
        paths.append(str(real))
    if not any(package == Path(p) or Path(p) in package.parents for p in paths + list(SYSTEM_DIRS)):
        paths.append(str(package))
    covered = [Path(p) for p in paths] + [Path(p) for p in SYSTEM_DIRS]
    for tool in tool_files():
        if not any(c in tool.parents for c in covered):
            paths.append(str(tool))
    return list(dict.fromkeys(paths)), empty


def tool_files() -> list[Path]:
    """The grader's kubectl and helm that ``LAB_TOOLS_DIR`` names, each bound read-only at its own path.

    Files, not their folder: a private folder (0700) still shows only these two, readable by the
    kernel's uid; the kernel's ``lab_helpers.tools.install()`` checks their digests before using them.
    """
    from ..config import tools_dir_setting

    folder = tools_dir_setting()
    if folder is None:
        return []
    found = []
    for name in ("kubectl", "helm"):
        path = folder / name
        if path.is_file() and not path.is_symlink():
            found.append(path)
    return found


def _mkdirs(path: str) -> None:
    try:
        os.makedirs(path, mode=0o755, exist_ok=True)
    except FileExistsError:
        pass


def _mount_points_under(target: str) -> list[str]:
    points = []
    with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), line.split()[4])
            if point == target or point.startswith(target.rstrip("/") + "/"):
                points.append(point)
    return points


def _bind(source: str, target: str, *, read_only: bool, devices: bool = False, recursive: bool = False) -> None:
    """Bind ``source`` at ``target``; read-only binds are read-only all the way down (every submount)."""
    if os.path.isdir(source):
        _mkdirs(target)
    else:
        _mkdirs(os.path.dirname(target))
        if not os.path.exists(target):
            open(target, "a").close()
    _mount(source, target, None, MS_BIND | (MS_REC if recursive else 0))
    flags = MS_BIND | MS_REMOUNT | MS_NOSUID | (0 if devices else MS_NODEV) | (MS_RDONLY if read_only else 0)
    for point in _mount_points_under(target) if recursive else [target]:
        _mount(None, point, None, flags)


def _dev(root: str) -> None:
    dev = root + "/dev"
    _mkdirs(dev)
    _mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=64k")
    for name in DEVICES:
        if os.path.exists(f"/dev/{name}"):
            _bind(f"/dev/{name}", f"{dev}/{name}", read_only=False, devices=True)
    try:
        extra = [n for n in os.listdir("/dev") if n.startswith(GPU_DEVICE_PREFIXES)]
    except OSError:
        extra = []
    for name in extra:  # the GPU lab's devices, when this machine has them
        _bind(f"/dev/{name}", f"{dev}/{name}", read_only=False, devices=True)
    for name, target in (
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ):
        os.symlink(target, f"{dev}/{name}")
    _mkdirs(dev + "/shm")
    _mount("tmpfs", dev + "/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=64m")
    _pts(dev)


def _pts(dev: str) -> None:
    """A devpts instance of this mount namespace's own, for the terminals of ``!cmd`` cells.

    ``newinstance`` keeps its ptys apart from the host's and every other submission's (the host's
    ``/dev/pts`` is never bound here); ``ptmxmode=0666`` lets the unprivileged kernel open its
    ``ptmx``, which ``/dev/ptmx`` points at. No ``gid=`` option: the tty group need not exist in a
    user namespace. Where such an instance cannot be made the jail refuses rather than lend the host's.
    """
    _mkdirs(dev + "/pts")
    try:
        _mount("devpts", dev + "/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620")
    except JailError as exc:
        raise JailError(
            f"{exc}: a devpts instance of the jail's own could not be made (a kernel without devpts "
            "multi-instance support, or a container that forbids mounting it); the host's terminals are "
            "never lent, so no submission runs here: grade on a Linux host as root, or allow devpts mounts"
        ) from None
    os.symlink("pts/ptmx", dev + "/ptmx")


def _proc(root: str) -> None:
    _mkdirs(root + "/proc")
    for options in ("hidepid=invisible", "hidepid=2", None):  # other users' processes hidden where possible
        try:
            _mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, options)
            return
        except JailError:
            continue
    raise JailError("mount /proc: refused")


def enter(spec: JailSpec) -> None:
    """Make a new mount namespace with a fresh minimal root and pivot into it (as root)."""
    _check(_libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing done here reaches the grader's namespace
    root = os.path.join(spec.base, f"root-{os.getpid()}")
    _mkdirs(root)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=1m")
    ops: list[tuple[str, str, str]] = []  # (path, kind, source)
    for top in SYSTEM_DIRS:
        if os.path.islink(top):
            ops.append((top, "link", os.readlink(top)))
        elif os.path.isdir(top):
            ops.append((top, "sys" if top == "/sys" else "ro", top))
    ops += [(p, "ro", p) for p in spec.read_only if os.path.exists(p)]
    ops += [(p, "rw", p) for p in spec.read_write]
    ops.append(("/tmp", "tmp", ""))
    ops.sort(key=lambda op: (op[0].count("/"), op[1] != "tmp", op[0]))  # parents before what they hold
    done: set[tuple[str, str]] = set()
    for path, kind, source in ops:
        if (path, kind) in done:
            continue
        done.add((path, kind))
        target = root + path
        if kind == "link":
            os.symlink(source, target)
        elif kind == "tmp":
            _mkdirs(target)
            _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=256m")
        elif kind == "sys":  # /sys alone stays one mount: its submounts (cgroups, debugfs) are not the lab's business
            try:
                _bind(source, target, read_only=True)
            except JailError:  # a user namespace may not bind it without its submounts: the kernel goes without
                _mkdirs(target)
        else:
            _bind(source, target, read_only=kind != "rw", recursive=True)
    for path in spec.empty_dirs:  # there (a checkout's course_root looks for labs/), but nothing to list
        if not os.path.exists(root + path):
            _mkdirs(root + path)
            os.chmod(root + path, 0)
    for path in spec.masks:  # only a key or output kept inside a bound folder is there at all
        if os.path.isdir(root + path):
            _mount("tmpfs", root + path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "mode=000,size=4k")
    _dev(root)
    _proc(root)
    # the skeleton read-only: in a pod the kernel's uid owns it (the grader's user namespace made it)
    _mount(None, root + "/dev", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC)
    _mount(None, root, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    _pivot(root)


def _pivot(root: str) -> None:
    os.chdir(root)
    number = _PIVOT_ROOT.get(platform.machine().lower())
    if number is None:
        raise JailError(f"pivot_root is not known on {platform.machine()}")
    _check(_libc.syscall(number, b".", b"."), "pivot_root")
    _check(_libc.umount2(b".", MNT_DETACH), "detach the old root")  # the grader's tree is gone from here
    os.chdir("/")


def _capset_zero() -> None:
    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    data = (Data * 2)()
    _check(_libc.capset(ctypes.byref(Header(_CAP_VERSION_3, 0)), data), "capset")


def uid_mapped(uid: int) -> bool:
    """Whether ``uid`` exists in this process's user namespace (always, outside of one)."""
    try:
        lines = Path("/proc/self/uid_map").read_text().splitlines()
    except OSError:
        return True
    for line in lines:
        inside, _outside, count = (int(x) for x in line.split())
        if inside <= uid < inside + count:
            return True
    return False


def _own_user_namespace(uid: int) -> None:
    """Enter a user namespace of our own where ``uid`` is this process's (outer) user.

    Inside a pod, the grader is root only in a user namespace of its own (``unshare --map-root-user``),
    where ``uid`` does not exist. A nested namespace maps ``uid`` to that root, which is the pod's
    unprivileged user on the host; capabilities held in the nested namespace are dropped next, and
    the mounts of the jail belong to the outer one, so they cannot be lifted from inside.
    """
    outer_uid, outer_gid = os.geteuid(), os.getegid()
    _check(_libc.unshare(CLONE_NEWUSER), "unshare(CLONE_NEWUSER)")
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"{uid} {outer_uid} 1")
    Path("/proc/self/gid_map").write_text(f"{uid} {outer_gid} 1")


def drop_privileges(uid: int) -> None:
    """Become ``uid`` with no supplementary groups, no capabilities in any set, and no_new_privs."""
    nested = not uid_mapped(uid)
    if nested:
        _own_user_namespace(uid)
    try:
        last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    except (OSError, ValueError):
        last = 63
    for cap in range(last + 1):  # the bounding set: nothing can ever be gained back through exec
        _prctl(PR_CAPBSET_DROP, cap)
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    _prctl(PR_SET_SECUREBITS, SECUREBITS)  # best effort: refused where securebits are already locked
    _prctl(PR_SET_KEEPCAPS, 0)
    if not nested:  # setgroups is denied in the nested namespace, which starts with no groups
        os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    _capset_zero()  # the inheritable set survives setuid; clear it
    _check(_prctl(PR_SET_NO_NEW_PRIVS, 1), "prctl(PR_SET_NO_NEW_PRIVS)")
    problems = privileges_left(identity())
    if problems:
        raise JailError("privileges left after dropping them: " + ", ".join(problems))


def identity() -> dict:
    """This process's uid, groups and capability sets, read back from ``/proc/self/status``."""
    fields: dict[str, str | int | list[int]] = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in (
                "Uid",
                "Gid",
                "Groups",
                "CapInh",
                "CapPrm",
                "CapEff",
                "CapBnd",
                "CapAmb",
                "NoNewPrivs",
                "Seccomp",
            ):
                fields[name] = value.strip()
    except OSError as exc:
        fields["error"] = str(exc)
    fields["uid"], fields["euid"], fields["gid"] = os.getuid(), os.geteuid(), os.getgid()
    fields["groups"] = os.getgroups()
    return fields


# the same read-back as one expression, evaluated inside the kernel before any learner cell
IDENTITY_EXPRESSION = (
    "__import__('json').dumps(dict([(l.partition(':')[0], l.partition(':')[2].strip()) for l in "
    "open('/proc/self/status').read().splitlines() if l.split(':')[0] in ('Uid', 'Gid', 'Groups', 'CapInh', "
    "'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs', 'Seccomp')], uid=__import__('os').getuid(), "
    "euid=__import__('os').geteuid(), gid=__import__('os').getgid(), groups=__import__('os').getgroups(), "
    "root=sorted(__import__('os').listdir('/'))))"
)


def privileges_left(ident: dict) -> list[str]:
    """What in an identity read-back is still a privilege ([] when none)."""
    left = []
    if ident.get("uid") == 0 or ident.get("euid") == 0:
        left.append("uid 0")
    uids = str(ident.get("Uid", "")).split()
    if "0" in uids:
        left.append(f"Uid {ident.get('Uid')}")
    for name in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        try:
            if int(str(ident.get(name, "ffff")), 16) != 0:
                left.append(f"{name} {ident.get(name)}")
        except ValueError:
            left.append(f"{name} unreadable")
    if str(ident.get("NoNewPrivs")) != "1":
        left.append(f"NoNewPrivs {ident.get('NoNewPrivs')}")
    if ident.get("groups"):
        left.append(f"groups {ident.get('groups')}")
    return left


def describe_identity(ident: dict) -> str:
    """One line for grading.log: what the kernel really had."""
    caps = ", ".join(f"{n} {ident.get(n, '?')}" for n in ("CapEff", "CapPrm", "CapInh", "CapAmb", "CapBnd"))
    text = (
        f"uid {ident.get('uid')} (euid {ident.get('euid')}), gid {ident.get('gid')}, "
        f"groups {ident.get('groups') or 'none'}; {caps}; NoNewPrivs {ident.get('NoNewPrivs', '?')}"
    )
    if "root" in ident:
        text += f"; / holds {' '.join(ident['root'])}"
    return text
