"""An exec session over a channel.k8s.io WebSocket: the client's stdin (channel 0) into the
command while it runs, its stdout and stderr (1, 2) out as they come, terminal resizes (4), v5's
close of stdin (255), and at the end the exit status on the error channel (3) as the kubelet
reports it: a ``Status`` of ``Success``, or ``Failure`` with reason ``NonZeroExitCode`` and the code
in ``details.causes``.

Buffers are bounded: the client's input waits (unread, in the network) while the command does
not read its stdin, and the command's output waits in its pipe while the client does not read.
The session ends, and the command with it, when the client leaves, when the command has ended,
or when the sandbox stops."""

from __future__ import annotations

import json
import os
import selectors
import threading
from typing import Any

from ..kubelet import execs
from .websocket import CLOSE, ERROR, RESIZE, SMALL_MESSAGE_MAX, STDERR, STDIN, STDOUT, ChannelSocket

STDIN_BUFFER = 256 * 1024  # input held for the command before the client's input is left unread
POLL_S = 0.2
EXIT_WAIT_S = 5.0


def exit_status(code: int, argv: list[str]) -> dict[str, Any]:
    """What the kubelet writes on the error channel (v4 and later) when the command has ended."""
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {
        "metadata": {},
        "status": "Failure",
        "message": (
            f"command terminated with non-zero exit code: error executing command [{' '.join(argv)}], exit code {code}"
        ),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }


def _json_errors(protocol: str) -> bool:
    return protocol.startswith(("v4.", "v5."))


class ExecBridge:
    """Carries one exec session between the WebSocket and the command."""

    def __init__(self, chan: ChannelSocket, session: execs.Session, argv: list[str], stopping: threading.Event):
        self.chan = chan
        self.session = session
        self.argv = argv
        self.stopping = stopping
        self.sel = selectors.DefaultSelector()
        self.to_stdin = bytearray()
        self.close_stdin_asked = False
        self.small: dict[int, bytearray] = {}  # resize and close messages being received
        self.too_long: set[int] = set()  # channels whose message being received is too long
        self.outputs: dict[int, int] = {}  # fd -> channel, while open
        self.reading_client = False

    # -- the loop ---------------------------------------------------------------------------------
    def run(self) -> None:
        s = self.session
        self._hello()
        if s.failed is not None:
            self.chan.send(s.message_channel, s.failed[1])
            self._finish(s.failed[0])
            return
        for fd, channel in ((s.stdout, STDOUT), (s.stderr, STDERR)):
            if fd is not None:
                self.outputs[fd] = channel
                self.sel.register(fd, selectors.EVENT_READ, ("out", channel))
        self._read_client(True)
        try:
            while not self.chan.closed:
                if self.stopping.is_set():
                    self.chan.close(1001, "the sandbox is stopping")
                    return
                ready = self.sel.select(0 if self.chan.pending() else POLL_S)
                if self.chan.pending() and self.reading_client:
                    self._from_client()
                for key, events in ready:
                    what = key.data[0]
                    if what == "client":
                        self._from_client()
                        continue
                    if events & selectors.EVENT_WRITE:
                        self._to_command()
                    if events & selectors.EVENT_READ and what == "out":
                        self._from_command(int(key.fd), key.data[1])
                code = s.exit_code(POLL_S) if not self.outputs else s.exit_code()
                if code is not None:
                    self._drain()
                    self._finish(s.exit_code(EXIT_WAIT_S))
                    return
        finally:
            self.sel.close()
            s.close()

    def _hello(self) -> None:
        """An empty message on the lowest channel the client reads, as the kubelet sends: the session is up."""
        s = self.session
        if s.failed is not None:
            first = s.message_channel
        else:
            first = STDOUT if s.stdout is not None else STDERR if s.stderr is not None else ERROR
        self.chan.send(first, b"")

    def _finish(self, code: int | None) -> None:
        if code is None:
            code = 137
        if code < 0:  # killed by a signal: as a shell reports it
            code = 128 - code
        if _json_errors(self.chan.protocol):
            self.chan.send(ERROR, json.dumps(exit_status(code, self.argv)).encode())
        elif code:
            self.chan.send(ERROR, f"command terminated with non-zero exit code: exit code {code}".encode())
        self.chan.close(1000)

    # -- the client ------------------------------------------------------------------------------
    def _read_client(self, on: bool) -> None:
        if on and not self.reading_client:
            self.sel.register(self.chan.sock, selectors.EVENT_READ, ("client",))
        elif not on and self.reading_client:
            self.sel.unregister(self.chan.sock)
        self.reading_client = on

    def _from_client(self) -> None:
        for part in self.chan.receive():
            if part.channel == STDIN:
                if self.session.stdin is not None and not self.close_stdin_asked:
                    self.to_stdin += part.data
            elif part.channel in (RESIZE, CLOSE):
                self._small(part.channel, part.data, part.last)
            # other channels are the server's to write: ignored, as the API server does
        if self.to_stdin:
            self._want_stdin(True)
            if len(self.to_stdin) >= STDIN_BUFFER:
                self._read_client(False)
        self._maybe_close_stdin()

    def _small(self, channel: int, data: bytes, last: bool) -> None:
        """A resize or close message, gathered from its pieces; one longer than
        ``SMALL_MESSAGE_MAX`` is dropped (nothing of it is kept past that)."""
        buf = self.small.setdefault(channel, bytearray())
        if channel in self.too_long or len(buf) + len(data) > SMALL_MESSAGE_MAX:
            self.too_long.add(channel)
            buf.clear()
        else:
            buf += data
        if not last:
            return
        message = bytes(self.small.pop(channel))
        if channel in self.too_long:
            self.too_long.discard(channel)
            return
        if channel == RESIZE:
            try:
                size = json.loads(message)
                self.session.resize(int(size.get("Width") or 0), int(size.get("Height") or 0))
            except (ValueError, TypeError, AttributeError):
                pass
        elif channel == CLOSE and self.chan.v5 and message[:1] == bytes([STDIN]):
            self.close_stdin_asked = True

    # -- the command -----------------------------------------------------------------------------
    def _want_stdin(self, on: bool) -> None:
        fd = self.session.stdin
        if fd is None:
            return
        try:
            key = self.sel.get_key(fd)
        except KeyError:
            key = None
        want = selectors.EVENT_WRITE if on else 0
        if fd in self.outputs:  # a terminal: one descriptor, read and written
            self.sel.modify(fd, selectors.EVENT_READ | want, ("out", self.outputs[fd]))
            return
        if on and key is None:
            self.sel.register(fd, selectors.EVENT_WRITE, ("stdin",))
        elif not on and key is not None:
            self.sel.unregister(fd)

    def _to_command(self) -> None:
        fd = self.session.stdin
        if fd is None:
            self.to_stdin.clear()
            return
        try:
            n = os.write(fd, bytes(self.to_stdin[:READ_CHUNK]))
            del self.to_stdin[:n]
        except BlockingIOError:
            return
        except OSError:  # the command closed its stdin
            self.to_stdin.clear()
        if not self.to_stdin:
            self._want_stdin(False)
        if len(self.to_stdin) < STDIN_BUFFER // 2 and not self.chan.closed:
            self._read_client(True)
        self._maybe_close_stdin()

    def _maybe_close_stdin(self) -> None:
        if self.close_stdin_asked and not self.to_stdin and self.session.stdin is not None:
            self._want_stdin(False)
            self.session.close_stdin()

    def _from_command(self, fd: int, channel: int) -> None:
        try:
            data = os.read(fd, READ_CHUNK)
        except BlockingIOError:
            return
        except OSError:  # EIO: the terminal's other end is closed
            data = b""
        if not data:
            self.outputs.pop(fd, None)
            try:
                self.sel.unregister(fd)
            except (KeyError, ValueError):
                pass
            return
        self.chan.send(channel, data)

    def _drain(self) -> None:
        """The command has ended: send what its pipes still hold (a process it left behind may
        hold them open: what it writes later is not waited for)."""
        for fd, channel in list(self.outputs.items()):
            while not self.chan.closed:
                try:
                    data = os.read(fd, READ_CHUNK)
                except OSError:  # nothing more now (EAGAIN), or the terminal is gone (EIO)
                    break
                if not data:
                    break
                self.chan.send(channel, data)


READ_CHUNK = 32 * 1024


def serve_exec(chan: ChannelSocket, session: execs.Session, argv: list[str], stopping: threading.Event) -> None:
    """Run the session to its end (the caller closes the WebSocket)."""
    ExecBridge(chan, session, argv, stopping).run()
