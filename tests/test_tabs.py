"""Every tab of the app is a module with one interface (``demos.tabs.Tab``), built in-process over the real pool."""

from __future__ import annotations

import pytest

import zoo
from demos.app import TABS, build
from demos.state import Zoo
from demos.tabs import TabParts

ENDPOINTS = {  # the app's public API, tab by tab, as it was before the tabs became modules
    "digits": {"classify_digit", "flag_digit"},
    "text": {"generate_text"},
    "latent": {"decode_latent", "encode_digit"},
    "leaderboard": {"leaderboard"},
    "figures": set(),
    "houses": {"predict_price"},
    "submit": {"submit_model", "submissions"},
    "train": {"train_model"},
}


@pytest.fixture(scope="module")
def pool() -> Zoo:
    return Zoo.load("embedded")


@pytest.mark.parametrize("tab", TABS, ids=lambda tab: tab.ID)
def test_a_tab_module_has_the_interface(tab):
    assert isinstance(tab.TITLE, str) and tab.TITLE
    assert isinstance(tab.ID, str) and tab.ID in ENDPOINTS
    assert callable(tab.build) and tab.build.__doc__
    assert tab.__doc__


def test_tab_ids_are_unique_and_in_the_order_shown():
    assert [tab.ID for tab in TABS] == list(ENDPOINTS)


@pytest.mark.parametrize("tab", TABS, ids=lambda tab: tab.ID)
def test_a_tab_builds_alone_with_its_own_endpoints(tab, pool):
    import gradio as gr

    with gr.Blocks() as demo, gr.Tab(tab.TITLE, id=tab.ID):
        parts = tab.build(pool, demo)
    assert isinstance(parts, TabParts)
    if parts.picker is not None:  # a picker belongs to the task the tab is named by
        assert tab.ID in zoo.TASKS
    assert (parts.try_it is None) == (parts.chosen is None)
    named = {d.api_name for d in demo.fns.values() if d.api_visibility == "public"}
    assert named == ENDPOINTS[tab.ID]


def test_the_app_offers_the_same_endpoints_as_before(pool):
    names = set(build(pool).get_api_info()["named_endpoints"])
    assert names == {f"/{name}" for names in ENDPOINTS.values() for name in names}
