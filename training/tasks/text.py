"""The text task: next-character models of Shakespeare (or of ``--text``), scored by loss on the held-out
end of the text."""

from __future__ import annotations

import math
from functools import cache

import torch
import torch.nn.functional as F
from torch import Tensor

from zoo.models import TextModel

from .. import data
from ..evaluate import Evaluation
from .base import Task, register


@cache
def _text_val(text_file: str | None) -> str:
    return data.text_split(data.load_text(text_file))[1]


@torch.inference_mode()
def eval_text(model: TextModel, text_file: str | None = None, streams: int = 16, chunk: int = 256) -> Evaluation:
    """Next-character loss over the validation split, read as ``streams`` contiguous pieces whose state is
    carried from chunk to chunk: every character is predicted with all the text before it in its piece.
    Items for the interval are chunks of 256 characters (neighbouring characters are not independent)."""
    model.eval()
    ids = data.encode_text(_text_val(text_file), model.vocab)
    length = (len(ids) - 1) // streams
    X = ids[: streams * length].view(streams, length)
    Y = ids[1 : streams * length + 1].view(streams, length)
    state, total, blocks = None, 0.0, []
    for i in range(0, length, chunk):
        logits, state = model.run(X[:, i : i + chunk], state)
        losses = F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), Y[:, i : i + chunk].reshape(-1), reduction="none"
        )
        total += losses.sum().item()
        if logits.shape[1] == chunk or not blocks and i + chunk >= length:  # a short text: its one partial chunk
            blocks.append(losses.view(streams, -1).mean(1))
    loss = total / Y.numel()
    per_block = torch.cat(blocks)
    items = {"loss": per_block, "bits_per_char": per_block / math.log(2)}
    return Evaluation({"loss": loss, "bits_per_char": loss / math.log(2)}, items)


class Text(Task):
    name = "text"
    reads_text_file = True
    departures = (
        "The vocabulary is the sorted set of characters, saved in `config.json`; the book used `set()` "
        "order, which changes between Python runs and breaks saved models.",
        "Validation: the last 10 % of the corpus by position; the loss is read with the state carried "
        "through the text, every character predicted from all text before it.",
    )

    def evaluate(self, model: TextModel, *, text_file: str | None = None, **_) -> Evaluation:
        return eval_text(model, text_file)

    def example_input(self, model: TextModel) -> Tensor:
        """One sequence of the training length (the book LSTM reads it one-hot)."""
        if hasattr(model, "lstm") and hasattr(model, "sequence_length"):
            return torch.zeros(1, model.sequence_length, model.vocab_size)
        return torch.zeros(1, 100, dtype=torch.long)


TASK = register(Text())
