"""The app's words in English and Simplified Chinese, in one place: one dict per locale, keys named by meaning.

Two ways out of here:
- ``t(key)`` for what the page shows from the start (labels, notes, buttons, tab titles): a ``gr.I18n`` key, turned
  into the browser's language by Gradio's frontend (the browser's own language at first, Gradio's Settings panel in
  the footer to switch). ``t(key, **values)`` formats the text now and registers it under a key of its own.
- ``say(key, **values)`` for what a handler answers (notes, errors): in the language of the request it serves,
  set by ``speaking(request)`` (the page's chosen language, kept in the ``dlfs_lang`` cookie by ``LANG_JS``, else
  the Accept-Language header, else English: programs and MCP clients read English).
API names and the API's descriptions (handlers' docstrings) stay English.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import gradio as gr

from demos.i18n_text import EN, SUMMARIES_ZH, ZH

LOCALES = ("en", "zh-CN")
TEXT: dict[str, dict[str, str]] = {"en": EN, "zh-CN": ZH}
I18N = gr.I18n(**TEXT)  # Blocks.launch(i18n=I18N): the same dicts, so keys t() adds later still reach the page
LOCALE: ContextVar[str] = ContextVar("dlfs_locale", default="en")
COOKIE = "dlfs_lang"
# the page's language, as Gradio's frontend sets it on <html lang> (browser default or the Settings panel), kept in a
# cookie that every request of the page carries: handlers answer in the language the page shows
LANG_JS = f"""
() => {{
  const lang = () => document.documentElement.lang || "";
  const keep = () => {{ document.cookie = "{COOKIE}=" + lang() + "; path=/; SameSite=Lax"; }};
  new MutationObserver(keep).observe(document.documentElement, {{ attributes: true, attributeFilter: ["lang"] }});
  keep();
}}
"""


def t(key: str, **values: object) -> gr.i18n.I18nData:
    """A text the page shows, translated in the browser; with ``values``, formatted now in every locale."""
    if key not in EN:
        raise KeyError(f"no text named {key!r}")
    if not values:
        return I18N(key)
    digest = hashlib.sha1(json.dumps([key, values], sort_keys=True, default=str).encode()).hexdigest()[:10]
    shown = f"{key}_{digest}"
    for table in TEXT.values():
        table.setdefault(shown, table.get(key, EN[key]).format(**values))
    return I18N(shown)


def locale_of(request: gr.Request | None) -> str:
    """The request's language: the page's (cookie), else the first English or Chinese of Accept-Language, else en."""
    if request is None:
        return "en"
    cookies = getattr(request, "cookies", None) or {}
    chosen = str(cookies.get(COOKIE, "")).lower()
    if chosen.startswith("zh"):
        return "zh-CN"
    if chosen.startswith("en"):
        return "en"
    header = (getattr(request, "headers", None) or {}).get("accept-language", "") or ""
    ranked = []
    for i, part in enumerate(header.split(",")):
        lang, _, q = part.strip().partition(";q=")
        try:
            ranked.append((-float(q or 1), i, lang.lower()))
        except ValueError:
            continue
    for _, _, lang in sorted(ranked):
        if lang.startswith("zh"):
            return "zh-CN"
        if lang.startswith("en"):
            return "en"
    return "en"


@contextmanager
def speaking(request: gr.Request | None) -> Iterator[str]:
    """Within the body, ``say`` answers in the request's language."""
    token = LOCALE.set(locale_of(request))
    try:
        yield LOCALE.get()
    finally:
        # a streaming handler may be resumed in another context (Gradio steps generators from threads), where
        # the token cannot be reset: that context's value dies with it
        with contextlib.suppress(ValueError):
            LOCALE.reset(token)


def speak_per_event(demo: gr.Blocks) -> gr.Blocks:
    """Every event of ``demo`` runs in its request's language from the decoding of its inputs on, so that a
    picture refused before any handler runs (``demos.pictures``) or a cap's refusal is said in the page's language."""
    process = demo.process_api

    async def process_speaking(*args: Any, **kwargs: Any) -> dict[str, Any]:
        request = kwargs.get("request")
        with speaking(request[0] if isinstance(request, list) and request else request or None):
            return await process(*args, **kwargs)

    demo.process_api = process_speaking
    return demo


def say(key: str, **values: object) -> str:
    """A text a handler answers with, in the language of the request being served."""
    return TEXT[LOCALE.get()].get(key, EN[key]).format(**values)


def refuse(key: str, **values: object) -> gr.Error:
    """A refusal in the request's language (``raise refuse(...)``)."""
    return gr.Error(say(key, **values))


def summary(name: str, english: str) -> str:
    """A catalog entry's summary in the request's language (submitted models have their English one only)."""
    return SUMMARIES_ZH.get(name, english) if LOCALE.get() == "zh-CN" else english
