"""Tests against a real Asterisk 22: run when ``VOXFLOW_ASTERISK`` names its binary.

Build one with ``scripts/asterisk.sh`` (outside the repository), then
``VOXFLOW_ASTERISK=/opt/voxflow-asterisk/sbin/asterisk pytest tests/asterisk``. Everything
listens on 127.0.0.1 and every process the tests start is stopped by them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from telephony.ami import AmiSettings
from tests.asterisk.callee import CalleeServer
from tests.asterisk.rig import AMI_SECRET, HOST, Rig, make_rig
from tests.asterisk.sip_peer import SipPeer

BINARY = os.environ.get("VOXFLOW_ASTERISK", "")


def pytest_collection_modifyitems(config, items):
    if BINARY and Path(BINARY).is_file():
        return
    why = (
        f"VOXFLOW_ASTERISK={BINARY} is not a file"
        if BINARY
        else "VOXFLOW_ASTERISK is not set (build Asterisk 22 with scripts/asterisk.sh)"
    )
    for item in items:
        if "tests/asterisk/" in str(item.fspath):
            item.add_marker(pytest.mark.skip(reason=why))


@pytest.fixture(scope="module")
def callee_server():
    server = CalleeServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ultravox_peer():
    peer = SipPeer()
    peer.start()
    yield peer
    peer.stop()


@pytest.fixture(scope="module")
def rig(tmp_path_factory, callee_server, ultravox_peer) -> Rig:
    rig = make_rig(
        Path(BINARY),
        tmp_path_factory.mktemp("asterisk"),
        callee_server.address,
        ultravox_peer.address,
    )
    rig.start()
    yield rig
    rig.stop()


@pytest.fixture
def ami_settings(rig) -> AmiSettings:
    return AmiSettings(
        host=HOST,
        port=rig.ami_port,
        username="voxflow",
        secret=AMI_SECRET,
        ping_interval=1.0,
        ping_timeout=2.0,
        backoff_initial=0.1,
        backoff_max=0.5,
    )
