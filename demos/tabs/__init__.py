"""The app's tabs, one module each, all with one interface (``Tab``): a ``TITLE``, an ``ID`` (a task's tab is named
by its task) and ``build(pool, demo)``, which lays the tab out inside its ``gr.Tab``, wires the tab's own events and
returns the ``TabParts`` that the app wires between tabs. A tab's ``Link`` says which keys of a link
(``?tab=ID&key=value``) it reads and how it writes its state as one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol
from urllib.parse import urlencode

import gradio as gr

from demos.i18n import say
from demos.state import Zoo

SHOWN = 40  # a bad value of a link is echoed in a note at most this long, as code


class Handler(NamedTuple):
    """An event's function with its input and output components, as ``gr`` event listeners take them."""

    fn: Callable[..., Any]
    inputs: list[Any]
    outputs: list[Any]


@dataclass(frozen=True)
class Link:
    """How a link opens the tab in a state, and how the tab's state is written as a link."""

    keys: tuple[str, ...]  # the query keys the tab reads, besides tab
    outputs: list[Any]  # what opening a link sets
    opens: Callable[[dict[str, str], list[str]], list[Any]]  # (query, notes) -> one update per output; bad values
    # fall back to the default (gr.skip()) with a note appended, in the request's language
    inputs: list[Any]  # what the tab's state is read from
    writes: Callable[..., dict[str, str]]  # the inputs' values -> the query keys
    then: Handler | None = None  # run after a link opened the tab (what the outputs' own events do not redo)


@dataclass(frozen=True)
class TabParts:
    """What the app wires between tabs; a tab leaves out what it does not have."""

    picker: gr.Dropdown | None = None  # the model picker of the task the tab's ID names: new models join it
    also_offered: tuple[str, ...] = ()  # what the picker offers before the task's models (Houses: "all")
    on_open: Handler | None = None  # run whenever the tab is opened (what it shows changes meanwhile)
    try_it: gr.Button | None = None  # opens the tab of the model in ``chosen``, with that model picked
    chosen: gr.State | None = None
    link: Link | None = None  # the keys of a link this tab reads (the tab alone opens by ``?tab=ID`` without)


class Tab(Protocol):
    """A tab module."""

    TITLE: str  # the label on the tab (English; its translations are demos.i18n's tab_ID)
    ID: str  # gr.Tab's id (what gr.Tabs(selected=...) names); a task's tab uses the task

    def build(self, pool: Zoo, demo: gr.Blocks) -> TabParts: ...


def shown(value: str) -> str:
    """A value from a link as a note shows it: cut short, as inline code, no backticks of its own."""
    value = value.replace("`", "'").replace("\n", " ")
    return f"`{value[:SHOWN]}{'…' if len(value) > SHOWN else ''}`"


def model_from_link(query: dict[str, str], notes: list[str], task: str, names: list[str]) -> Any:
    """The picker's update for a link's ``model``: picked when ``names`` has it, else the default and a note."""
    name = query.get("model")
    if name is None:
        return gr.skip()
    if name in names:
        return gr.Dropdown(value=name)
    notes.append(say("link_unknown_model", task=say(f"tab_{task}"), value=shown(name)))
    return gr.skip()


def link_to(tab: str, **query: str) -> str:
    """The link (relative: the page's own address) that opens ``tab`` in the state ``query`` names."""
    return "?" + urlencode({"tab": tab, **query})
