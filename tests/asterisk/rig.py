"""A real Asterisk for tests: configs in a temporary directory, everything on 127.0.0.1.

The shipped dialplan (``telephony/asterisk/extensions.conf``, ``extensions_ultravox_sip.conf``
and ``amd.conf``) is loaded as it is; ``pjsip.conf`` and ``manager.conf`` are the test's own
(the shipped ones are templates to fill in). A PJSIP loop stands for the carrier: the
``voxflow-trunk`` endpoint sends its INVITEs to this same Asterisk, where they are identified
(by their From user) as the ``loopcallee`` endpoint and run in ``[callees]``, whose numbers
answer a SIP status each:

* ``486`` ``Busy()`` -> SIP 486, ``503`` ``Congestion()`` -> SIP 503, ``403`` ``Hangup(21)``
  -> SIP 403, ``404`` ``Hangup(1)`` -> SIP 404, ``180`` rings for ever;
* ``3xxx`` answer and hand their audio to the test's callee AudioSocket server, whose
  behaviour is the number (see ``tests/asterisk/callee.py``).

``[callees-local]`` has the same numbers for ``Local/`` channels. Calls from the
``loopcaller`` endpoint come back in as calls *from the trunk* (identified by address), i.e.
into ``[voxflow-inbound]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "telephony" / "asterisk"
HOST = "127.0.0.1"
AMI_SECRET = "rig-secret"

MODULES = """
[modules]
autoload = no
load = res_timing_timerfd.so
load = res_sorcery_config.so
load = res_sorcery_memory.so
load = res_sorcery_memory_cache.so
load = res_sorcery_astdb.so
load = res_pjproject.so
load = res_pjsip.so
load = res_pjsip_session.so
load = res_pjsip_pubsub.so
load = res_pjsip_sdp_rtp.so
load = res_pjsip_authenticator_digest.so
load = res_pjsip_outbound_authenticator_digest.so
load = res_pjsip_endpoint_identifier_user.so
load = res_pjsip_endpoint_identifier_ip.so
load = res_pjsip_header_funcs.so
load = res_pjsip_caller_id.so
load = res_pjsip_dtmf_info.so
load = res_pjsip_logger.so
load = res_rtp_asterisk.so
load = chan_pjsip.so
load = codec_ulaw.so
load = codec_alaw.so
load = bridge_simple.so
load = bridge_native_rtp.so
load = res_audiosocket.so
load = app_audiosocket.so
load = app_amd.so
load = app_dial.so
load = app_stack.so
load = app_verbose.so
load = app_senddtmf.so
load = app_echo.so
load = func_uuid.so
load = func_channel.so
load = func_logic.so
load = func_strings.so
load = func_callerid.so
load = func_cdr.so
load = pbx_config.so
"""

CALLEES = """
[callees]
exten => 486,1,Busy(5)
exten => 503,1,Congestion(5)
exten => 403,1,Hangup(21)
exten => 404,1,Hangup(1)
exten => 180,1,Ringing()
 same => n,Wait(120)
exten => _3XXX,1,Answer()
 same => n,AudioSocket(00000000-0000-4000-8000-00000000${EXTEN},${RIG_CALLEE})
 same => n,Hangup()

[callees-local]
include => callees
"""


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Rig:
    """A running Asterisk and where to reach it."""

    binary: Path
    root: Path
    ami_port: int
    sip_port: int
    callee: str
    """``host:port`` of the test's callee AudioSocket server."""
    ultravox: str
    """``host:port`` of the test's SIP listener standing for Ultravox."""
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.root / "log" / "messages"

    def write_configs(self) -> None:
        etc = self.root / "etc"
        for name in ("run", "log", "lib", "spool", "db", "keys", "data"):
            (self.root / name).mkdir(parents=True, exist_ok=True)
        etc.mkdir(parents=True, exist_ok=True)
        prefix = self.binary.resolve().parents[1]
        (etc / "asterisk.conf").write_text(
            "[directories]\n"
            f"astetcdir => {etc}\n"
            f"astmoddir => {prefix / 'lib' / 'asterisk' / 'modules'}\n"
            f"astvarlibdir => {self.root / 'lib'}\n"
            f"astdbdir => {self.root / 'db'}\n"
            f"astkeydir => {self.root / 'keys'}\n"
            # the XML documentation lives there: Asterisk refuses to start without it
            f"astdatadir => {prefix / 'var' / 'lib' / 'asterisk'}\n"
            f"astagidir => {self.root / 'data'}\n"
            f"astspooldir => {self.root / 'spool'}\n"
            f"astrundir => {self.root / 'run'}\n"
            f"astlogdir => {self.root / 'log'}\n"
            f"astsbindir => {self.binary.parent}\n"
            "[options]\nverbose = 3\nnocolor = yes\nhideconnect = yes\n"
        )
        (etc / "modules.conf").write_text(MODULES)
        (etc / "logger.conf").write_text(
            "[general]\n[logfiles]\nmessages => notice,warning,error,verbose(3)\n"
        )
        (etc / "rtp.conf").write_text("[general]\nrtpstart = 30000\nrtpend = 31000\n")
        (etc / "manager.conf").write_text(
            f"[general]\nenabled = yes\nport = {self.ami_port}\nbindaddr = {HOST}\n"
            "timestampevents = yes\n"
            f"[voxflow]\nsecret = {AMI_SECRET}\ndeny = 0.0.0.0/0.0.0.0\n"
            "permit = 127.0.0.1/255.255.255.255\n"
            "read = system,call,dialplan,dtmf\nwrite = originate,call,system\n"
        )
        (etc / "amd.conf").write_text((SHIPPED / "amd.conf").read_text())
        sip = self.sip_port
        ultravox_host, ultravox_port = self.ultravox.rsplit(":", 1)
        endpoint = (
            "type = endpoint\ntransport = rig-udp\ndisallow = all\nallow = ulaw\n"
            "direct_media = no\ndtmf_mode = rfc4733\nmedia_address = 127.0.0.1\n"
            "bind_rtp_to_media_address = yes\nrtp_symmetric = yes\n"
        )
        (etc / "pjsip.conf").write_text(
            "[global]\ntype = global\nendpoint_identifier_order = username,ip\n\n"
            f"[rig-udp]\ntype = transport\nprotocol = udp\nbind = {HOST}:{sip}\n\n"
            # what voxflow dials: the carrier is this same Asterisk
            f"[voxflow-trunk]\n{endpoint}context = voxflow-inbound\n"
            "from_user = loopcallee\naors = voxflow-trunk\n\n"
            f"[voxflow-trunk]\ntype = aor\ncontact = sip:{HOST}:{sip}\n\n"
            f"[voxflow-trunk-identify]\ntype = identify\nendpoint = voxflow-trunk\nmatch = {HOST}\n\n"
            # the far end of the loop: the callees
            f"[loopcallee]\n{endpoint}context = callees\nidentify_by = username\n\n"
            # calls into voxflow-inbound come from here
            f"[loopcaller]\n{endpoint}context = callees\naors = loopcaller\n\n"
            f"[loopcaller]\ntype = aor\ncontact = sip:{HOST}:{sip}\n\n"
            # Ultravox: the test's SIP listener
            f"[ultravox]\n{endpoint}context = callees\naors = ultravox\n\n"
            f"[ultravox]\ntype = aor\ncontact = sip:{ultravox_host}:{ultravox_port}\n"
        )
        shipped = (SHIPPED / "extensions.conf").read_text()
        (etc / "extensions.conf").write_text(
            shipped
            + (SHIPPED / "extensions_ultravox_sip.conf").read_text()
            + CALLEES
            + f"\n[globals]\nRIG_CALLEE={self.callee}\n"
        )

    def start(self) -> None:
        self.write_configs()
        with open(self.root / "log" / "console.txt", "ab") as out:
            self.process = subprocess.Popen(
                [str(self.binary), "-f", "-n", "-C", str(self.root / "etc" / "asterisk.conf")],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"asterisk exited with {self.process.returncode}: {self.tail()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection((HOST, self.ami_port), timeout=0.5) as probe,
            ):
                if probe.recv(64).startswith(b"Asterisk Call Manager/"):
                    break
            time.sleep(0.2)
        else:
            self.stop()
            raise RuntimeError(f"asterisk did not open AMI within 30 s: {self.tail()}")
        # AMI opens before the modules (the dialplan among them) are loaded
        self.cli("core waitfullybooted")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)

    def tail(self, lines: int = 30) -> str:
        text = ""
        for path in (self.root / "log" / "console.txt", self.log):
            with contextlib.suppress(OSError):
                text += "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        return text

    def cli(self, command: str) -> str:
        """Run a CLI command through a remote console (``asterisk -rx``)."""
        result = subprocess.run(
            [str(self.binary), "-C", str(self.root / "etc" / "asterisk.conf"), "-rx", command],
            capture_output=True,
            timeout=20,
            check=False,
        )
        return result.stdout.decode(errors="replace")


def make_rig(binary: Path, root: Path, callee: str, ultravox: str) -> Rig:
    if root.exists():
        shutil.rmtree(root)
    return Rig(binary, root, free_port(), free_port(socket.SOCK_DGRAM), callee, ultravox)


async def wait_for(predicate, timeout: float = 10.0, step: float = 0.05) -> None:  # noqa: ASYNC109
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(step)
