"""Conversation tests: YAML beside the flows, run on the local provider, with coverage."""

from runtime.convtest.report import render
from runtime.convtest.runner import (
    Coverage,
    Failure,
    FileResult,
    TestResult,
    discover,
    run_file,
    run_paths,
)

__all__ = [
    "Coverage",
    "Failure",
    "FileResult",
    "TestResult",
    "discover",
    "render",
    "run_file",
    "run_paths",
]
