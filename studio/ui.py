"""Small rendering helpers every page uses, so states read the same everywhere."""

from __future__ import annotations

import re
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
    "plain",
    "show_error",
]
from runtime.settings import Role
from runtime.tenancy import DEFAULT_TENANT, KEY_PREFIX
from studio.config import StudioConfig, load_config

T = TypeVar("T")
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~<$])")


API_KEY = "studio.api_key"
"""Session key of the signed-in person's API key."""


def config() -> StudioConfig:
    """The studio configuration, read once per session; stops the page until the person has
    signed in when the deployment has API keys (:func:`sign_in`)."""
    # Also here, not only in app.py: a page's own address (/calls) runs the page script
    # alone, and it must be as wide as when reached from the navigation.
    st.set_page_config(page_title="voxflow studio", layout="wide")
    if "studio.config" not in st.session_state:
        st.session_state["studio.config"] = load_config()
    cfg: StudioConfig = st.session_state["studio.config"]
    if cfg.settings_error:
        st.warning(f"voxflow settings are invalid, using defaults: {cfg.settings_error}")
    sign_in(cfg)
    return cfg


def sign_in(cfg: StudioConfig) -> Role | None:
    """The signed-in person's role; without one, a sign-in form and ``st.stop()``.

    ``None`` when the deployment has no keys (everyone acts as admin, on loopback only).
    """
    if not cfg.sign_in_required:
        st.sidebar.caption(f"Tenant **{DEFAULT_TENANT}** (no API keys: platform administrator)")
        return None
    key = st.session_state.get(API_KEY)
    identity = _identity(cfg, key) if key else None
    if identity is not None:
        role, tenant = identity
        with st.sidebar:
            st.caption(f"Signed in as **{role}** in tenant **{tenant}**")
            if st.button("Sign out", key="studio.sign_out"):
                st.session_state.pop(API_KEY, None)
                st.rerun()
        return role
    st.title("Sign in")
    st.write(
        "This voxflow deployment has API keys: sign in with yours; the studio acts with its role."
    )
    with st.form("studio.sign_in"):
        entered = st.text_input("API key", type="password")
        if st.form_submit_button("Sign in", type="primary"):
            if _identity(cfg, entered) is not None:
                st.session_state[API_KEY] = entered
                st.rerun()
            st.error("That is not one of this deployment's API keys.")
    st.stop()
    return None  # unreachable: st.stop() raises


def _identity(cfg: StudioConfig, key: str) -> tuple[Role, str] | None:
    """The role of ``key`` and the tenant it acts for; ``None`` when it is no key.

    The deployment's own keys (``VOXFLOW_API_KEYS``) act in the default tenant; a tenant's key
    (``vf_...``) is known to the API alone, which answers whose it is (``GET /tenant``).
    """
    role = cfg.role_of(key)
    if role is not None:
        return role, DEFAULT_TENANT
    if not key.startswith(KEY_PREFIX):
        return None
    cache = st.session_state.setdefault("studio.identities", {})
    if key not in cache:
        try:
            who = ApiClient.from_config(cfg, key).get("/tenant")
        except (ApiError, ApiUnavailable):
            return None
        cache[key] = (Role(who["role"]), str(who["tenant"]))
    return cache[key]


def client() -> ApiClient:
    """The REST client, acting with the signed-in person's key."""
    return ApiClient.from_config(config(), st.session_state.get(API_KEY))


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


def plain(text: str) -> str:
    """``text`` escaped for ``st.markdown``: shown as written, never as headings or lists."""
    return _MARKDOWN.sub(r"\\\1", text)
