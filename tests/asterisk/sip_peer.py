"""A SIP listener standing for Ultravox: it keeps every INVITE and declines it (486).

Enough of RFC 3261 for one INVITE transaction: the response copies Via, From, Call-ID and
CSeq, and adds a tag to To; the ACK that follows is only recorded.
"""

from __future__ import annotations

import socket
import threading


class SipPeer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((host, 0))
        self._sock.settimeout(0.2)
        self.host, self.port = self._sock.getsockname()[:2]
        self.invites: list[str] = []
        self._running = True
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._running = False
        self._thread.join(5)
        self._sock.close()

    def _serve(self) -> None:
        while self._running:
            try:
                data, peer = self._sock.recvfrom(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            text = data.decode(errors="replace")
            if text.startswith("INVITE "):
                self.invites.append(text)
                self._sock.sendto(_response(text, "486 Busy Here").encode(), peer)


def headers(message: str, name: str) -> list[str]:
    """Values of every header ``name`` (case-insensitive) of a SIP message."""
    head = message.split("\r\n\r\n", 1)[0].split("\r\n")[1:]
    return [
        line.split(":", 1)[1].strip()
        for line in head
        if ":" in line and line.split(":", 1)[0].strip().lower() == name.lower()
    ]


def _response(request: str, status: str) -> str:
    lines = [f"SIP/2.0 {status}"]
    lines += [f"Via: {v}" for v in headers(request, "Via")]
    lines += [f"From: {v}" for v in headers(request, "From")]
    lines += [f"To: {v};tag=voxflow-rig" for v in headers(request, "To")]
    lines += [f"Call-ID: {v}" for v in headers(request, "Call-ID")]
    lines += [f"CSeq: {v}" for v in headers(request, "CSeq")]
    lines += ["Content-Length: 0", "", ""]
    return "\r\n".join(lines)
