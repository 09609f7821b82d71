"""The text task: next-character models of Shakespeare (or of ``--text``), scored by loss on the held-out
end of the text."""

from __future__ import annotations

import math
from functools import cache

import torch
import torch.nn.functional as F
from torch import Tensor, nn, optim

from zoo.catalog import Entry
from zoo.models import TextModel

from .. import data
from ..evaluate import Evaluation
from ..recipes import Options, register_trainer, trainer_for
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

    @torch.inference_mode()
    def answers(self, model: TextModel) -> Tensor:
        """Next-character log-probabilities over the first 1,024 characters of the held-out Shakespeare."""
        ids = data.encode_text(_text_val(None)[:1025], model.vocab)
        logits, _ = model.eval().run(ids[None, :-1], None)
        return F.log_softmax(logits.float(), -1).flatten()

    def example_input(self, model: TextModel) -> Tensor:
        """One sequence of the training length (the book LSTM reads it one-hot)."""
        if hasattr(model, "lstm") and hasattr(model, "sequence_length"):
            return torch.zeros(1, model.sequence_length, model.vocab_size)
        return torch.zeros(1, 100, dtype=torch.long)


TASK = register(Text())


# ------------------------------------------------------------------------------------- training
def _text(o: Options, seq: int) -> tuple[str, Tensor, Tensor, Tensor, Tensor]:
    """The vocabulary (the declared Shakespeare one, or a new one with ``--text``) and the windows."""
    if o.text:
        train_text, val_text = data.text_split(data.load_text(o.text))
        vocab = data.make_vocab(train_text + val_text)
    else:  # the declared vocabulary: the few characters only later plays use (digits, '$') are dropped
        train_text, val_text = data.shakespeare_splits(o.all_plays)
        vocab = data.make_vocab(data.shakespeare_text())
    Xtr, ytr = data.char_windows(data.encode_text(train_text, vocab), seq, o.stride or seq)
    Xva, yva = data.char_windows(data.encode_text(val_text, vocab), seq, seq)
    Xtr, ytr = Xtr[: o.train_limit], ytr[: o.train_limit]  # --train-limit N: the first N windows
    return vocab, Xtr, ytr, Xva, yva


@register_trainer("book_lstm")
def train_char_lstm_book(e: Entry, o: Options):
    seq = e.kwargs["sequence_length"]
    vocab, Xtr, ytr, Xva, yva = _text(o, seq)
    V = len(vocab)
    model = e.build(vocab=vocab, vocab_size=V, hidden_size=V)
    opt = optim.Adam(model.parameters(), lr=o.lr, weight_decay=1e-5)
    trainer = trainer_for(model, opt, nn.CrossEntropyLoss(), o, input_transform=lambda x: F.one_hot(x, V).float())
    hist = trainer.fit(Xtr, ytr, Xva, yva, epochs=o.epochs, eval_every=1, batch_size=o.batch_size)
    model.lstm.reset_state()
    return model, hist


@register_trainer("char_rnn")
def train_char_rnn(e: Entry, o: Options):
    vocab, Xtr, ytr, Xva, yva = _text(o, 100)
    model = e.build(vocab=vocab, vocab_size=len(vocab))
    opt = optim.Adam(model.parameters(), lr=o.lr)
    hist = trainer_for(model, opt, nn.CrossEntropyLoss(), o).fit(
        Xtr, ytr, Xva, yva, epochs=o.epochs, eval_every=1, batch_size=o.batch_size, final_lr=o.lr / 10
    )
    return model, hist


def _warmup_cosine(opt: optim.Optimizer, total: int, warmup: int, floor: float = 0.1):
    """Linear warm-up over ``warmup`` steps, then a cosine down to ``floor`` times the peak (nanoGPT's)."""

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        done = min(1.0, (step - warmup) / max(1, total - warmup))
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * done))

    return optim.lr_scheduler.LambdaLR(opt, factor)


@register_trainer("char_transformer")
def train_char_transformer(e: Entry, o: Options):
    """AdamW (weight decay on matrices only), warm-up + cosine, windows of ``block_size`` characters."""
    seq = e.kwargs["block_size"]
    vocab, Xtr, ytr, Xva, yva = _text(o, seq)
    model = e.build(vocab=vocab, vocab_size=len(vocab))
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}]
    opt = optim.AdamW(groups, lr=o.lr, betas=(0.9, 0.99))
    steps = o.epochs * math.ceil(len(Xtr) / o.batch_size)
    sched = _warmup_cosine(opt, steps, warmup=min(200, steps // 10 + 1))
    hist = trainer_for(model, opt, nn.CrossEntropyLoss(), o).fit(
        Xtr, ytr, Xva, yva, epochs=o.epochs, eval_every=1, batch_size=o.batch_size, batch_scheduler=sched
    )
    return model, hist
