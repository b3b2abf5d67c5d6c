"""A bare WebSocket client on a plain TCP socket: it does only what a test tells it.

Used to be the clients no library would be: one that completes the handshake and
then never reads or answers pings, one whose receive buffer is tiny.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import time
from typing import Any

TCP_CLOSE_WAIT = 8  # Linux tcp_states.h: the peer has closed its side


class RawWebSocket:
    def __init__(self, port: int, path: str = "/parse", *, receive_buffer: int | None = None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer is not None:
            # before connect, so the window advertised in the handshake is already small
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(15)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:  # the 101 response, byte by byte: nothing more
            chunk = self.sock.recv(1)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            head += chunk
        assert head.startswith(b"HTTP/1.1 101"), head

    def send_json(self, frame: Any) -> None:
        payload = json.dumps(frame).encode()
        mask = os.urandom(4)
        header = bytes([0x81])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        elif len(payload) < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", len(payload))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def tcp_state(self) -> int:
        return self.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]

    def wait_peer_closed(self, limit: float) -> bool:
        """Wait (without reading) until the server has closed its side of the TCP connection."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.tcp_state() == TCP_CLOSE_WAIT:
                return True
            time.sleep(0.05)
        return False

    def read_all(self) -> list[tuple[int, bytes]]:
        """Every frame up to the end of the stream, as ``(opcode, payload)``."""
        data = b""
        while True:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                break
            data += chunk
        frames = []
        pos = 0
        while pos + 2 <= len(data):
            opcode, length = data[pos] & 0x0F, data[pos + 1] & 0x7F
            pos += 2
            if length == 126:
                (length,) = struct.unpack("!H", data[pos : pos + 2])
                pos += 2
            elif length == 127:
                (length,) = struct.unpack("!Q", data[pos : pos + 8])
                pos += 8
            frames.append((opcode, data[pos : pos + length]))
            pos += length
        return frames

    def close(self) -> None:
        self.sock.close()
