"""WebSocket for the streaming subresources (``pods/exec``, ``pods/attach``), spoken as the API
server does: the ``channel.k8s.io`` subprotocols, where every binary message starts with a channel
byte (0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize; v5 adds 255 to close a channel), and their
``base64`` variants (text messages: the channel as a digit, then the data in base64).

The sandbox's HTTP server hands over its connection after the ``101 Switching Protocols`` answer
(``werkzeug.socket`` in the WSGI environ); wsproto does the framing. One thread serves a session,
waiting on the socket and the command's pipes together, so a TLS connection is never read and
written by two threads at once."""

from __future__ import annotations

import base64
import binascii
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Request, Response
from wsproto.connection import Connection, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Ping, TextMessage
from wsproto.utilities import LocalProtocolError, RemoteProtocolError, generate_accept_token

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
# What the API server accepts for exec and attach, in its order of preference.
CHANNEL_PROTOCOLS = (V5, V4, "v4.base64.channel.k8s.io", "v3.channel.k8s.io", "base64.channel.k8s.io", "channel.k8s.io")
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
READ_SIZE = 64 * 1024
WRITE_TIMEOUT_S = 120.0  # a client that reads nothing for this long is dropped
SMALL_MESSAGE_MAX = 4096  # a resize or close message longer than this is ignored
TEXT_MESSAGE_MAX = 1024 * 1024  # a base64 message is decoded whole: longer ones end the session (1009)


def is_upgrade(request: Request) -> bool:
    """A WebSocket upgrade request (``Connection: Upgrade``, ``Upgrade: websocket``)."""
    upgrade = {v.strip().lower() for v in request.headers.get("Upgrade", "").split(",")}
    connection = {v.strip().lower() for v in request.headers.get("Connection", "").split(",")}
    return "websocket" in upgrade and "upgrade" in connection


def is_spdy(request: Request) -> bool:
    """An SPDY/3.1 upgrade (what kubectl falls back to when its WebSocket upgrade was refused)."""
    return "spdy/3.1" in request.headers.get("Upgrade", "").lower()


def offered(request: Request) -> list[str]:
    """The subprotocols the client offers, in its order."""
    out: list[str] = []
    for value in request.headers.getlist("Sec-WebSocket-Protocol"):
        out += [p.strip() for p in value.split(",") if p.strip()]
    return out


def choose(request: Request, supported: tuple[str, ...]) -> str | None:
    """The first protocol the client offers that is supported; "" when it offers none (the
    original ``channel.k8s.io``); None when it offers only unsupported ones."""
    wanted = offered(request)
    if not wanted:
        return ""
    return next((p for p in wanted if p in supported), None)


@dataclass
class Inbound:
    """Part of a message from the client: its channel, a piece of its data, and whether it is the
    message's last piece."""

    channel: int
    data: bytes
    last: bool


class ChannelSocket:
    """The server's end of a channel.k8s.io WebSocket, after the 101 answer."""

    def __init__(self, sock: socket.socket, protocol: str) -> None:
        self.sock = sock
        self.protocol = protocol
        self.base64 = "base64" in protocol
        self.ws = Connection(ConnectionType.SERVER)
        self.closed = False  # the client has closed, or the connection is gone
        self._channel: int | None = None  # the channel of the message being received
        self._text = ""  # a base64 message being received
        sock.settimeout(0.0)

    @property
    def v5(self) -> bool:
        return self.protocol == V5

    def fileno(self) -> int:
        return self.sock.fileno()

    def pending(self) -> bool:
        """Decrypted bytes wait in the TLS layer (select would not show them)."""
        return isinstance(self.sock, ssl.SSLSocket) and self.sock.pending() > 0

    def _write(self, data: bytes) -> None:
        if not data or self.closed:
            return
        try:
            self.sock.settimeout(WRITE_TIMEOUT_S)
            self.sock.sendall(data)
        except OSError:
            self.closed = True
        finally:
            try:
                self.sock.settimeout(0.0)
            except OSError:
                self.closed = True

    def send(self, channel: int, data: bytes) -> None:
        """One message on ``channel`` (blocks while the client reads too slowly)."""
        if self.closed:
            return
        if self.base64:
            event: Any = TextMessage(data=str(channel) + base64.b64encode(data).decode("ascii"))
        else:
            event = BytesMessage(data=bytes([channel]) + data)
        try:
            self._write(self.ws.send(event))
        except LocalProtocolError:
            self.closed = True

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Send a close frame (once), then stop."""
        if self.closed:
            return
        try:
            self._write(self.ws.send(CloseConnection(code=code, reason=reason or None)))
        except LocalProtocolError:
            pass
        self.closed = True

    def receive(self) -> list[Inbound]:
        """What the client has sent so far (never blocks); sets ``closed`` when it has gone."""
        try:
            data = self.sock.recv(READ_SIZE)
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError, InterruptedError):
            return []
        except OSError:
            self.closed = True
            return []
        if not data:
            self.closed = True
            return []
        try:
            self.ws.receive_data(data)
            return self._events()
        except (RemoteProtocolError, LocalProtocolError):
            self.close(1002, "protocol error")
            return []

    def _events(self) -> list[Inbound]:
        out: list[Inbound] = []
        for event in self.ws.events():
            if isinstance(event, Ping):
                self._write(self.ws.send(event.response()))
            elif isinstance(event, CloseConnection):
                try:
                    self._write(self.ws.send(event.response()))
                except LocalProtocolError:
                    pass
                self.closed = True
            elif isinstance(event, TextMessage) and self.base64:
                out += self._text_part(event)
            elif isinstance(event, (BytesMessage, TextMessage)):
                # a text message on a binary protocol is read as its bytes, as the API server does
                # (the Python client sends ``str`` stdin that way)
                out += self._bytes_part(event)
        return out

    def _bytes_part(self, event: BytesMessage | TextMessage) -> list[Inbound]:
        data = event.data.encode("utf-8") if isinstance(event.data, str) else bytes(event.data)
        if self._channel is None:
            if not data:
                return [] if not event.message_finished else []
            self._channel, data = data[0], data[1:]
        channel = self._channel
        if event.message_finished:
            self._channel = None
        return [Inbound(channel, data, event.message_finished)]

    def _text_part(self, event: TextMessage) -> list[Inbound]:
        self._text += event.data
        if len(self._text) > TEXT_MESSAGE_MAX:
            self._text = ""
            self.close(1009, "message too big")
            return []
        if not event.message_finished:
            return []
        text, self._text = self._text, ""
        if not text or not text[0].isdigit():
            return []
        try:
            data = base64.b64decode(text[1:], validate=True)
        except (binascii.Error, ValueError):
            return []
        return [Inbound(int(text[0]), data, True)]


class Upgraded(Response):
    """The answer to an accepted upgrade: writes ``101 Switching Protocols`` on the connection, runs
    ``serve`` with a ChannelSocket, and leaves nothing for the HTTP server to write afterwards."""

    def __init__(self, request: Request, protocol: str, serve: Callable[[ChannelSocket], None]) -> None:
        super().__init__(status=101)
        self.key = request.headers.get("Sec-WebSocket-Key", "").encode("latin-1")
        self.protocol = protocol
        self.serve = serve

    def __call__(self, wsgi_env: dict[str, Any], start_response: Any) -> Any:
        sock: socket.socket = wsgi_env["werkzeug.socket"]
        lines = [
            "HTTP/1.1 101 Switching Protocols",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Accept: {generate_accept_token(self.key).decode('ascii')}",
        ]
        if self.protocol:
            lines.append(f"Sec-WebSocket-Protocol: {self.protocol}")
        try:
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        except OSError:
            raise ConnectionAbortedError("the client left before the upgrade") from None
        chan = ChannelSocket(sock, self.protocol)
        try:
            self.serve(chan)
        finally:
            chan.close()
            _end(sock)
        # werkzeug's server treats this as a dropped connection: it writes nothing more and closes it.
        raise ConnectionAbortedError("websocket session over")


def _end(sock: socket.socket) -> None:
    """No more on this connection: the HTTP server, which would wait for a next request on it,
    reads its end at once."""
    try:
        sock.settimeout(1.0)
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def can_upgrade(request: Request) -> bool:
    """The server can hand over its connection (the sandbox's HTTP server does; a test client does not)."""
    return "werkzeug.socket" in request.environ
