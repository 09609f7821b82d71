"""The app's endpoints as MCP tools (Gradio's ``mcp_server``), called the way an LLM client calls them:
the ``mcp`` package's client over streamable HTTP."""

from __future__ import annotations

import asyncio
import base64
import json

import numpy as np
import pytest

from training.drawn import human_drawing

pytestmark = pytest.mark.app


async def _session(url: str, work):
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async with streamable_http_client(url) as (read, write, _), ClientSession(read, write) as session:
        await session.initialize()
        return await work(session)


def _mcp(app, work):
    return asyncio.run(asyncio.wait_for(_session(f"{app.url}gradio_api/mcp/", work), timeout=120))


def _text(result) -> str:
    assert not result.isError, result.content
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


def test_tools_are_listed_with_descriptions(app):
    tools = _mcp(app, lambda s: s.list_tools())
    names = {t.name for t in tools.tools}
    assert {"classify_digit", "generate_text", "decode_latent", "encode_digit", "leaderboard", "predict_price"} <= names
    generate = next(t for t in tools.tools if t.name == "generate_text")
    assert "Continue a prompt" in generate.description
    props = generate.inputSchema["properties"]
    assert {"prompt", "length", "temperature", "top_k", "seed", "model"} <= set(props)
    assert "random seed" in props["seed"].get("description", "")  # every parameter described for the LLM
    assert all(p.get("description") for t in tools.tools for p in t.inputSchema["properties"].values())


def test_generate_text_and_classify_digit_as_tools(app, tmp_path, mnist_sample):
    images, labels = mnist_sample
    path = tmp_path / "three.png"
    human_drawing(images[int(np.flatnonzero(labels == 3)[0])], np.random.default_rng(5), 400).save(path)
    data_url = "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()

    async def work(session):
        text = await session.call_tool("generate_text", {"prompt": "ROMEO:", "length": 40, "seed": 1})
        digit = await session.call_tool("classify_digit", {"image": data_url})
        code = await session.call_tool("encode_digit", {"image": data_url, "model": "vae-28"})
        kept = await session.call_tool("flag_digit", {"image": data_url, "right_digit": "3", "model": "mnist-mlp"})
        return _text(text), _text(digit), _text(code), _text(kept)

    text, digit, code, kept = _mcp(app, work)
    assert "Saved" in kept
    assert len(json.loads(code)) == 28, code[:300]  # every tool that takes an image takes a plain one
    assert "ROMEO:" in text
    assert "Read as **3**" in digit or '"label": "3"' in digit, digit[:500]
