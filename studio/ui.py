"""Small rendering helpers every page uses, so states read the same everywhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from dsl.diagnostics import Diagnostic
from studio.api import ApiClient, ApiError, ApiUnavailable

__all__ = [
    "ApiError",
    "ApiUnavailable",
    "api_call",
    "client",
    "config",
    "diagnostics_table",
    "show_error",
]
from studio.config import StudioConfig, load_config

T = TypeVar("T")


def config() -> StudioConfig:
    """The studio configuration, read once per session."""
    if "studio.config" not in st.session_state:
        st.session_state["studio.config"] = load_config()
    cfg: StudioConfig = st.session_state["studio.config"]
    if cfg.settings_error:
        st.warning(f"voxflow settings are invalid, using defaults: {cfg.settings_error}")
    return cfg


def client() -> ApiClient:
    return ApiClient.from_config(config())


def api_call(fn: Callable[[], T]) -> T | None:
    """Run one API call; on failure show why on the page and return ``None``."""
    try:
        return fn()
    except ApiUnavailable as exc:
        st.error(f"API not reachable at {exc.url}. Start it with `voxflow dev` or `voxflow api`.")
        st.caption(exc.reason)
    except ApiError as exc:
        show_error(exc)
    return None


def show_error(exc: ApiError) -> None:
    """The API's refusal in plain language, its status and code small underneath."""
    from studio.errors import plain, reference

    st.error(plain(exc))
    st.caption(reference(exc))


def diagnostics_table(diagnostics: tuple[Diagnostic, ...], source: str) -> None:
    """Every diagnostic with its line, column and code, then each with its caret excerpt."""
    if not diagnostics:
        st.success("No problems found.")
        return
    errors = sum(d.is_error for d in diagnostics)
    warnings = len(diagnostics) - errors
    if errors:
        st.error(f"{errors} error(s), {warnings} warning(s)")
    else:
        st.warning(f"{warnings} warning(s)")
    st.dataframe(
        [
            {
                "line": d.line,
                "col": d.col,
                "severity": d.severity.value,
                "code": d.code,
                "message": d.message,
                "hint": d.hint,
            }
            for d in diagnostics
        ],
        hide_index=True,
        width="stretch",
    )
    st.code("\n\n".join(d.render(source) for d in diagnostics), language=None)
