"""The flow language: compile ``*.flow`` and ``*.flow.yaml`` files into the checked IR.

Public surface::

    result = compile_file("flows/reminder.flow")   # never raises on bad input
    for d in result.diagnostics: print(d.render(result.source))
    flow = result.unwrap()                         # ir.Flow, or CompileError
    flow = load_flow("flows/reminder.flow")        # same, in one call
"""

from dsl.compiler import CompileResult, compile_file, compile_source, load_flow
from dsl.diagnostics import CompileError, Diagnostic, Severity

__all__ = [
    "CompileError",
    "CompileResult",
    "Diagnostic",
    "Severity",
    "compile_file",
    "compile_source",
    "load_flow",
]
