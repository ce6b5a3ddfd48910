"""``python -m telephony.sim --ami 127.0.0.1:PORT --scenarios FILE --log FILE``.

With ``--call-in HOST:PORT`` the simulator also places one inbound call to voxflow's AudioSocket
server at HOST:PORT (from ``--caller`` to ``--did``; the caller runs the scenario of its own
number), prints what was said and heard as JSON, and exits when that call ends.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal

from telephony.sim.pbx import SimPBX
from telephony.sim.scenarios import Scenarios, load_scenarios


def _address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


async def _run(args: argparse.Namespace) -> None:
    scenarios = load_scenarios(args.scenarios) if args.scenarios else Scenarios()
    host, port = args.ami
    secret = os.environ.get("VOXFLOW_SIM_AMI_SECRET", "voxflow")
    async with SimPBX(
        scenarios, log_path=args.log, host=host, port=port, username=args.username, secret=secret
    ) as pbx:
        bound = pbx.ami_address
        print(f"simulated PBX: AMI on {bound[0]}:{bound[1]}, log {args.log}", flush=True)
        if args.call_in is not None:
            await asyncio.sleep(args.delay)
            call = pbx.place_inbound(
                f"{args.call_in[0]}:{args.call_in[1]}", caller=args.caller, did=args.did
            )
            await call.ended.wait()
            media = call.media
            summary = {
                "call": call.attempt_id,
                "caller": args.caller,
                "did": args.did,
                "cause": call.cause,
                "said": media.said if media else [],
                "heard": media.heard if media else [],
                "ended_by": media.ended_by if media else "",
            }
            print(json.dumps(summary, indent=2), flush=True)
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m telephony.sim", description="voxflow simulated PBX"
    )
    parser.add_argument(
        "--ami", type=_address, default=("127.0.0.1", 5038), help="HOST:PORT to serve AMI on"
    )
    parser.add_argument(
        "--scenarios", help="YAML or JSON scenarios file (see telephony/sim/scenarios.py)"
    )
    parser.add_argument(
        "--log", default="sim-originates.jsonl", help="append-only originate log (JSON lines)"
    )
    parser.add_argument(
        "--username", default="voxflow", help="AMI user (secret from VOXFLOW_SIM_AMI_SECRET)"
    )
    parser.add_argument(
        "--call-in",
        type=_address,
        metavar="HOST:PORT",
        help="place one inbound call to voxflow's AudioSocket server, then exit",
    )
    parser.add_argument("--caller", default="+15550199", help="caller id of the inbound call")
    parser.add_argument("--did", default="+15550100", help="number the inbound caller dialled")
    parser.add_argument(
        "--delay", type=float, default=0.0, help="seconds to wait before the inbound call"
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    asyncio.run(_run(args))


if __name__ == "__main__":
    main()
