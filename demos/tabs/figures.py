"""The Chapter figures tab: the book's figures 7-3 to 7-5, redrawn for every latent model of the zoo."""

from __future__ import annotations

import gradio as gr

from demos.i18n import t
from demos.state import ASSETS, Zoo
from demos.tabs import TabParts

TITLE = "Chapter figures"
ID = "figures"
FIGURES = {"fig7-3": "figures_7_3", "fig7-4": "figures_7_4", "fig7-5": "figures_7_5"}  # file stem -> title's key


def build(pool: Zoo, demo: gr.Blocks) -> TabParts:
    """One row per figure, one image per latent model that has it (shipped in demos/assets/figures)."""
    for stem, title in FIGURES.items():
        gr.Markdown(t(title), elem_classes="dlfs-figure-title")
        with gr.Row():
            for name in pool.by_task.get("latent", []):
                path = ASSETS / "figures" / f"{stem}-{name}.png"
                if path.is_file():
                    gr.Image(str(path), label=name, interactive=False, buttons=["download"])
    return TabParts()
