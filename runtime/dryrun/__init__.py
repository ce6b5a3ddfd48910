"""Campaign dry-run: the real campaign and contact workflows on Temporal's time-skipping test
server, against simulated callees, so days of calling are checked in seconds
(``voxflow campaign simulate``)."""

from runtime.dryrun.callees import OutcomeMix, default_mix, parse_mix
from runtime.dryrun.report import SimulationReport
from runtime.dryrun.run import SimulationError, simulate

__all__ = [
    "OutcomeMix",
    "SimulationError",
    "SimulationReport",
    "default_mix",
    "parse_mix",
    "simulate",
]
