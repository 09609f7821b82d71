"""The app's tabs, one module each, all with one interface (``Tab``): a ``TITLE``, an ``ID`` (a task's tab is named
by its task) and ``build(pool, demo)``, which lays the tab out inside its ``gr.Tab``, wires the tab's own events and
returns the ``TabParts`` that the app wires between tabs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import gradio as gr

from demos.state import Zoo


class Handler(NamedTuple):
    """An event's function with its input and output components, as ``gr`` event listeners take them."""

    fn: Callable[..., Any]
    inputs: list[Any]
    outputs: list[Any]


@dataclass(frozen=True)
class TabParts:
    """What the app wires between tabs; a tab leaves out what it does not have."""

    picker: gr.Dropdown | None = None  # the model picker of the task the tab's ID names: new models join it
    also_offered: tuple[str, ...] = ()  # what the picker offers before the task's models (Houses: "all")
    on_open: Handler | None = None  # run whenever the tab is opened (what it shows changes meanwhile)
    try_it: gr.Button | None = None  # opens the tab of the model in ``chosen``, with that model picked
    chosen: gr.State | None = None


class Tab(Protocol):
    """A tab module."""

    TITLE: str  # the label on the tab
    ID: str  # gr.Tab's id (what gr.Tabs(selected=...) names); a task's tab uses the task

    def build(self, pool: Zoo, demo: gr.Blocks) -> TabParts: ...
