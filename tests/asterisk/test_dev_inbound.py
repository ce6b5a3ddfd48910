"""An inbound call from the trunk into ``[voxflow-inbound]`` of a real Asterisk, answered by
the worker of ``voxflow dev`` on its fixed AudioSocket port."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from runtime.dev.temporal import free_port
from telephony.ami import AmiClient
from tests.asterisk.rig import AMI_SECRET, HOST
from tests.dev.voxflow_dev import until_listening, voxflow_dev

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


async def test_an_inbound_call_reaches_the_voxflow_dev_worker(
    tmp_path, rig, ami_settings, callee_server
):
    port = free_port()
    env = {
        **os.environ,
        "VOXFLOW_STATE_DIR": str(tmp_path / "state"),
        "AMI_HOST": HOST,
        "AMI_PORT": str(rig.ami_port),
        "AMI_USERNAME": "voxflow",
        "AMI_SECRET": AMI_SECRET,
        "AUDIOSOCKET_PORT": str(port),
        "VOXFLOW_INBOUND_FLOW": str(ROOT / "flows" / "dtmf_menu.flow"),
        "PYTHONPATH": str(ROOT),
    }
    async with voxflow_dev(env, tmp_path) as dev:
        assert "(Asterisk, AMI_HOST)" in dev.banner
        assert f"AudioSocket 127.0.0.1:{port} (inbound calls)" in dev.banner
        client = AmiClient(ami_settings)
        await client.start()
        try:
            # extensions.conf [globals]: VOXFLOW_INBOUND_AUDIOSOCKET=127.0.0.1:<AUDIOSOCKET_PORT>
            await client.send({"Action": "Setvar", "Variable": "VOXFLOW_INBOUND_AUDIOSOCKET",
                               "Value": f"127.0.0.1:{port}"})  # fmt: skip
            before = set(callee_server.voiced)
            await until_listening(port)
            # The carrier (the loop's caller, a silent phone) calls the trunk's number.
            reply = await client.send(
                {"Action": "Originate", "Channel": "PJSIP/15550100@loopcaller",
                 "CallerID": "<+15551234567>", "Context": "callees", "Exten": "3003",
                 "Priority": "1", "Async": "true"}
            )  # fmt: skip
            assert reply[0].get("Response") == "Success"

            def spoken_to() -> bool:
                return any(n > 10 for c, n in callee_server.voiced.items() if c not in before)

            for _ in range(100):
                if spoken_to():
                    break
                await asyncio.sleep(0.1)
            assert spoken_to(), "the worker's flow never spoke to the caller"
        finally:
            await client.close()
    assert dev.exit_code == 0
