"""A contact's workflow id gives its contact id back, for the default tenant and another one;
an id of another campaign is refused (``runtime.workflows.search.contact_id_of``)."""

from __future__ import annotations

import pytest

from runtime.workflows import search


@pytest.mark.parametrize("tenant", ["default", "acme"])
@pytest.mark.parametrize("contact", ["c001", "row/7", "x"])
def test_the_contact_id_comes_back_from_its_workflow_id(tenant: str, contact: str) -> None:
    wid = search.contact_workflow_id("spring/2027", contact, tenant)
    assert search.contact_id_of("spring/2027", wid, tenant) == contact


@pytest.mark.parametrize(
    "wid",
    ["campaign/autumn/c001", "campaign/spring/", "campaign/spring"],
)
def test_an_id_of_another_campaign_is_refused(wid: str) -> None:
    with pytest.raises(ValueError, match="not a contact workflow id of campaign 'spring'"):
        search.contact_id_of("spring", wid)
