"""Terminals for ``kubectl exec -it``: a pseudo-terminal pair whose far end becomes the command's
stdin, stdout, stderr and controlling terminal (so Ctrl-C in the learner's terminal interrupts the
command, as with a container runtime's TTY), and the window size the client reports."""

from __future__ import annotations

import fcntl
import os
import struct
import termios

# Runs first in the command's new session: takes the terminal on fd 0 as the controlling one, then
# becomes the command. With ``--shim`` the interrupt keys are ignored in the shim itself (it only
# waits for its child, which sets every signal back to its default before it runs the command);
# with ``--user UID GID`` it becomes that user first (where the service runs as root: the launcher
# itself may not be readable by the pod's user).
CTTY_LAUNCHER = (
    "import fcntl,os,signal,sys,termios,warnings\n"
    "fcntl.ioctl(0,termios.TIOCSCTTY,0)\n"
    "a=sys.argv[1:]\n"
    "if a[0]=='--shim':\n"
    " a=a[1:]\n"
    " for s in (signal.SIGINT,signal.SIGQUIT,signal.SIGTSTP):signal.signal(s,signal.SIG_IGN)\n"
    "elif a[0]=='--user':\n"
    " u,g=int(a[1]),int(a[2]);a=a[3:];os.setgroups([]);os.setresgid(g,g,g);os.setresuid(u,u,u)\n"
    "try:os.execvp(a[0],a)\n"
    "except FileNotFoundError:\n"
    " os.write(2,('exec: \"%s\": executable file not found in $PATH\\n'%a[0]).encode());os._exit(127)\n"
    "except PermissionError:\n"
    " os.write(2,('exec: \"%s\": permission denied\\n'%a[0]).encode());os._exit(126)\n"
)
DEFAULT_SIZE = (80, 24)


def open_pair(width: int = DEFAULT_SIZE[0], height: int = DEFAULT_SIZE[1]) -> tuple[int, int]:
    """A new pseudo-terminal: (master, slave) file descriptors, the master non-blocking."""
    master, slave = os.openpty()
    resize(master, width, height)
    os.set_blocking(master, False)
    return master, slave


def resize(master: int, width: int, height: int) -> None:
    """Tell the terminal (and so the command, by SIGWINCH) its new size in columns and rows."""
    width = max(0, min(int(width), 0xFFFF))
    height = max(0, min(int(height), 0xFFFF))
    try:
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
    except OSError:
        pass
