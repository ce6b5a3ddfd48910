"""``python -m telephony.sim --call-in HOST:PORT`` places one inbound call and reports it."""

import asyncio
import json
import sys
from pathlib import Path

from runtime.dev.temporal import die_with_parent, free_port, stop_process
from telephony.audiosocket import AudioSocketServer

ROOT = Path(__file__).resolve().parents[3]


async def test_the_cli_places_an_inbound_call_and_prints_what_happened(tmp_path: Path) -> None:
    async with AudioSocketServer() as server:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "telephony.sim",
            "--ami",
            f"127.0.0.1:{free_port()}",
            "--log",
            str(tmp_path / "sim.jsonl"),
            "--call-in",
            server.address_text,
            "--caller",
            "+33155550100",
            "--did",
            "+15550100",
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            preexec_fn=die_with_parent,
        )
        try:
            session = await asyncio.wait_for(anext(aiter(server.sessions())), 30)
            await session.hangup()
            out, _ = await asyncio.wait_for(process.communicate(), 30)
        finally:
            await stop_process(process)
    assert process.returncode == 0
    summary = json.loads(out.decode()[out.decode().index("{") :])
    assert summary["call"] == session.call_id
    assert (summary["caller"], summary["did"]) == ("+33155550100", "+15550100")
    assert (summary["ended_by"], summary["cause"]) == ("agent", 16)
