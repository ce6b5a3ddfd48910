"""The pages backed by the REST API say where it is unreachable instead of showing anything."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.studio.conftest import PAGES


@pytest.mark.parametrize("page", ["campaigns", "calls", "knowledge", "heatmap"])
def test_page_names_the_unreachable_api_url(page: str, closed_api: str, flows_dir) -> None:
    at = AppTest.from_file(str(PAGES / f"{page}.py"), default_timeout=30).run()

    assert not at.exception
    assert [e.value for e in at.error] == [
        f"API not reachable at {closed_api}. Start it with `voxflow dev` or `voxflow api`."
    ]
    assert not at.dataframe and not at.metric
