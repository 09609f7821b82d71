"""The trainers that zoo entries' recipes name (``Recipe.trainer``). Each builds its model from the entry's
declaration (``entry.build``, adding what it fits to the data), trains it and returns it with its history.
Book entries use the book's hyperparameters (DLFS_code ``07_PyTorch/Code.ipynb``); the variants are here to
beat them."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn, optim
from torch.optim import swa_utils

from zoo.catalog import Entry
from zoo.models import LatentModel, PyTorchModel

from . import data
from .trainer import PyTorchTrainer


@dataclass
class Options:
    epochs: int
    batch_size: int
    lr: float
    seed: int = 0
    stride: int | None = None  # text: step between training windows
    all_plays: bool = False  # text: train on every play but the validation span (``data.shakespeare_splits``)
    text: str | None = None  # text: a file to train on instead of Shakespeare
    device: str | None = None
    progress: bool = True
    train_limit: int | None = None  # digits: train on the first N images only (smoke runs, `make bench --quick`)
    on_epoch: Callable[[int, PyTorchModel], None] | None = None  # GAN: called with each epoch's model (sweeps)


Trainer = Callable[[Entry, Options], tuple[PyTorchModel, list[dict[str, Any]]]]
TRAINERS: dict[str, Trainer] = {}


def register(name: str) -> Callable[[Trainer], Trainer]:
    """Register a training function under the name that recipes use (``Recipe(trainer=name, ...)``)."""

    def add(fn: Trainer) -> Trainer:
        if name in TRAINERS:
            raise ValueError(f"a trainer named {name!r} is already registered")
        TRAINERS[name] = fn
        return fn

    return add


def book_sgd(model: nn.Module, lr: float) -> optim.SGD:
    """The book's optimizer: SGD with momentum 0.9, in torch's fused kernel (one call updates every parameter,
    a tenth of a millisecond less per step; its multiply-adds round differently from the per-tensor loop's in
    the last bit, so the SGD recipes were retrained with it)."""
    return optim.SGD(model.parameters(), lr=lr, momentum=0.9, fused=True)


def _trainer(model: nn.Module, opt: optim.Optimizer, loss, o: Options, **kw) -> PyTorchTrainer:
    return PyTorchTrainer(model, opt, loss, device=o.device, seed=None, progress=o.progress, **kw)


# --------------------------------------------------------------------------------------------- houses
def _houses(e: Entry, **fitted: Any):
    """The model with its scaler fit on the training split, and the split scaled by the model's own ``scale``."""
    s = data.boston_split()
    scaler = {"mean": s.mean.tolist(), "std": s.std.tolist()}
    medians = np.median(s.X_train, axis=0).tolist()
    model = e.build(feature_names=s.feature_names, normalize=scaler, feature_medians=medians, **fitted)
    y_train, y_test = (torch.tensor(y, dtype=torch.float32).unsqueeze(1) for y in (s.y_train, s.y_test))
    return model, model.scale(s.X_train), y_train, model.scale(s.X_test), y_test


@register("houses_mlp")
def train_houses_mlp(e: Entry, o: Options):
    model, Xtr, ytr, Xte, yte = _houses(e)
    opt = book_sgd(model, o.lr)
    hist = _trainer(model, opt, nn.MSELoss(), o).fit(
        Xtr, ytr, Xte, yte, epochs=o.epochs, eval_every=10, batch_size=o.batch_size
    )
    return model, hist


@register("sklearn_linear")
def train_linear(e: Entry, o: Options):
    from sklearn.linear_model import LinearRegression

    model, Xtr, ytr, *_ = _houses(e)
    reg = LinearRegression().fit(Xtr.numpy(), ytr.numpy().ravel())
    with torch.no_grad():
        model.linear.weight.copy_(torch.tensor(reg.coef_[None, :], dtype=torch.float32))
        model.linear.bias.fill_(float(reg.intercept_))
    return model, []


@register("sklearn_forest")
def train_forest(e: Entry, o: Options):
    from sklearn.ensemble import RandomForestRegressor

    _, Xtr, ytr, *_ = _houses(e)
    forest = RandomForestRegressor(n_estimators=e.kwargs["n_trees"], random_state=o.seed, n_jobs=-1)
    forest.fit(Xtr.numpy(), ytr.numpy().ravel())
    trees = [est.tree_ for est in forest.estimators_]
    sizes = {"max_nodes": max(t.node_count for t in trees), "max_depth": max(t.max_depth for t in trees)}
    model = _houses(e, **sizes)[0]
    with torch.no_grad():
        for i, t in enumerate(trees):
            n = t.node_count
            model.feature[i, :n] = torch.from_numpy(t.feature.astype(np.int64))
            model.threshold[i, :n] = torch.from_numpy(t.threshold.astype(np.float32))
            model.left[i, :n] = torch.from_numpy(t.children_left.astype(np.int64))
            model.right[i, :n] = torch.from_numpy(t.children_right.astype(np.int64))
            model.value[i, :n] = torch.from_numpy(t.value[:, 0, 0].astype(np.float32))
    return model, []


# --------------------------------------------------------------------------------------------- digits
def mnist_inputs(model: PyTorchModel, train_limit: int | None = None) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """MNIST through the model's own ``preprocess``, done once instead of per image per epoch (the book's
    ToTensor + Normalize in a DataLoader)."""
    Xtr, ytr = data.mnist_pixels(train=True)
    Xte, yte = data.mnist_pixels(train=False)
    if train_limit:
        Xtr, ytr = Xtr[:train_limit], ytr[:train_limit]
    return model.preprocess(Xtr), ytr, model.preprocess(Xte), yte


@register("book_convnet")
def train_book_convnet(e: Entry, o: Options):
    model = e.build()
    opt = book_sgd(model, o.lr)
    Xtr, ytr, Xte, yte = mnist_inputs(model, o.train_limit)
    test = (Xte, yte) if o.epochs > 1 else ()  # one epoch: its test loss is the card's `loss`, scored once after
    hist = _trainer(model, opt, nn.CrossEntropyLoss(), o).fit(
        Xtr, ytr, *test, epochs=o.epochs, eval_every=1, batch_size=o.batch_size
    )
    return model, hist


@register("mnist_mlp")
def train_mlp(e: Entry, o: Options):
    model = e.build()
    opt = book_sgd(model, o.lr)
    hist = _trainer(model, opt, nn.CrossEntropyLoss(), o).fit(
        *mnist_inputs(model, o.train_limit),
        epochs=o.epochs,
        eval_every=1,
        batch_size=o.batch_size,
        final_lr=o.lr / 10,
    )
    return model, hist


class _Epochs:
    """Mini-batches of (X, y), reshuffled every epoch; ``transform(batch, gen)`` makes each batch anew
    (a random shift, an augmentation) from the same generator."""

    def __init__(self, X: Tensor, y: Tensor, batch_size: int, gen: torch.Generator, transform) -> None:
        self.X, self.y, self.bs, self.gen, self.transform = X, y, batch_size, gen, transform

    def __len__(self) -> int:
        return (len(self.X) + self.bs - 1) // self.bs

    def __iter__(self):
        order = torch.randperm(len(self.X), generator=self.gen)
        for i in range(0, len(order), self.bs):
            idx = order[i : i + self.bs]
            yield self.transform(self.X[idx], self.gen), self.y[idx]


def _shifted(background: float):
    """Random shifts of up to 2 pixels, one draw per batch: cheap augmentation on tensors."""

    def shift(batch: Tensor, gen: torch.Generator) -> Tensor:
        padded = F.pad(batch, (2, 2, 2, 2), value=background)
        dx, dy = torch.randint(0, 5, (2,), generator=gen).tolist()
        return padded[:, :, dy : dy + 28, dx : dx + 28]

    return shift


def _one_cycle(model, loader: _Epochs, Xte: Tensor, yte: Tensor, o: Options):
    """AdamW with a one-cycle schedule and label smoothing: the modern CNNs' loop."""
    opt = optim.AdamW(model.parameters(), lr=o.lr, weight_decay=1e-4)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=o.lr, total_steps=o.epochs * len(loader))
    trainer = _trainer(model, opt, nn.CrossEntropyLoss(label_smoothing=0.05), o)
    return trainer.fit(
        loader, None, Xte, yte, epochs=o.epochs, eval_every=1, batch_size=o.batch_size, batch_scheduler=sched
    )


@register("modern_cnn")
def train_modern_cnn(e: Entry, o: Options):
    model = e.build()
    Xtr, ytr, Xte, yte = mnist_inputs(model, o.train_limit)
    loader = _Epochs(Xtr, ytr, o.batch_size, torch.Generator().manual_seed(o.seed), _shifted(float(Xtr.min())))
    return model, _one_cycle(model, loader, Xte, yte, o)


CONTINENTAL = 3000  # flagged 1s and as many crossed 7s


@register("robust_cnn")
def train_robust_cnn(e: Entry, o: Options):
    """MNIST's training split plus print-face digits (``augment.printed_digits``) and continental 1s and 7s
    (``augment.continental_digits``: flagged 1s, crossed 7s), augmented every epoch (``training.augment``) and
    then put through the model's own ``preprocess``."""
    from .augment import augment, continental_digits, printed_digits

    model = e.build()
    Xtr, ytr = data.mnist_pixels(train=True)
    if o.train_limit:
        Xtr, ytr = Xtr[: o.train_limit], ytr[: o.train_limit]
    Xp, yp = printed_digits(seed=o.seed)
    Xc, yc = continental_digits(Xtr, ytr, CONTINENTAL, seed=o.seed)
    # print faces three times (about 5 % of a batch), continental 1s and 7s once (about 9 %)
    Xtr, ytr = torch.cat([Xtr, Xp, Xp, Xp, Xc]), torch.cat([ytr, yp, yp, yp, yc])
    Xte, yte = data.mnist_pixels(train=False)

    def augmented(batch: Tensor, gen: torch.Generator) -> Tensor:
        return model.preprocess(augment(batch, gen))

    loader = _Epochs(Xtr, ytr, o.batch_size, torch.Generator().manual_seed(o.seed), augmented)
    return model, _one_cycle(model, loader, model.preprocess(Xte), yte, o)


# ----------------------------------------------------------------------------------------------- text
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
    return vocab, Xtr, ytr, Xva, yva


@register("book_lstm")
def train_char_lstm_book(e: Entry, o: Options):
    seq = e.kwargs["sequence_length"]
    vocab, Xtr, ytr, Xva, yva = _text(o, seq)
    V = len(vocab)
    model = e.build(vocab=vocab, vocab_size=V, hidden_size=V)
    opt = optim.Adam(model.parameters(), lr=o.lr, weight_decay=1e-5)
    trainer = _trainer(model, opt, nn.CrossEntropyLoss(), o, input_transform=lambda x: F.one_hot(x, V).float())
    hist = trainer.fit(Xtr, ytr, Xva, yva, epochs=o.epochs, eval_every=1, batch_size=o.batch_size)
    model.lstm.reset_state()
    return model, hist


@register("char_rnn")
def train_char_rnn(e: Entry, o: Options):
    vocab, Xtr, ytr, Xva, yva = _text(o, 100)
    model = e.build(vocab=vocab, vocab_size=len(vocab))
    opt = optim.Adam(model.parameters(), lr=o.lr)
    hist = _trainer(model, opt, nn.CrossEntropyLoss(), o).fit(
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


@register("char_transformer")
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
    hist = _trainer(model, opt, nn.CrossEntropyLoss(), o).fit(
        Xtr, ytr, Xva, yva, epochs=o.epochs, eval_every=1, batch_size=o.batch_size, batch_scheduler=sched
    )
    return model, hist


# --------------------------------------------------------------------------------------------- latent
def _mnist_scaled(model: LatentModel) -> tuple[Tensor, Tensor]:
    return model.to_input(data.mnist_pixels(train=True)[0]), model.to_input(data.mnist_pixels(train=False)[0])


@register("autoencoder")
def train_autoencoder(e: Entry, o: Options):
    model = e.build()
    Xtr, Xte = _mnist_scaled(model)
    opt = book_sgd(model, o.lr)
    hist = _trainer(model, opt, nn.MSELoss(), o).fit(
        Xtr, Xtr, Xte, Xte, epochs=o.epochs, eval_every=1, batch_size=o.batch_size
    )
    return model, hist


def vae_loss(out: tuple[Tensor, Tensor, Tensor], x: Tensor, beta: float = 1.0) -> Tensor:
    """Per-image negative ELBO: squared error summed over pixels (Gaussian, variance 1/2) + beta * KL."""
    recon, mu, logvar = out
    sse = F.mse_loss(recon, x, reduction="sum") / len(x)
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / len(x)
    return sse + beta * kl


@register("vae")
def train_vae(e: Entry, o: Options):
    model = e.build()
    Xtr, Xte = _mnist_scaled(model)
    opt = optim.Adam(model.parameters(), lr=o.lr)
    hist = _trainer(model, opt, lambda out, x: vae_loss(out, x, model.beta), o, full_output=True).fit(
        Xtr, Xtr, Xte, Xte, epochs=o.epochs, eval_every=1, batch_size=o.batch_size, final_lr=o.lr / 10
    )
    return model, hist


class Discriminator(nn.Module):
    """Real or generated? Two stride-2 convolutions with LeakyReLU (batch norm on the second, as DCGAN does
    everywhere but the discriminator's input), one logit. With ``spectral_norm`` every layer's weight is
    divided by its largest singular value (Miyato et al. 2018) and the batch norm goes. With ``classes`` it
    also asks "is this a real one of *that* class?": the projection discriminator (Miyato & Koyama 2018) adds
    the inner product of a learned class embedding with the features. Used in training only; the checkpoint
    keeps the generator."""

    def __init__(self, width: int = 64, spectral_norm: bool = False, classes: int = 0) -> None:
        super().__init__()
        sn = nn.utils.parametrizations.spectral_norm if spectral_norm else (lambda layer: layer)
        features = 2 * width * 7 * 7
        self.net = nn.Sequential(
            sn(nn.Conv2d(1, width, 4, 2, 1)),
            nn.LeakyReLU(0.2),
            sn(nn.Conv2d(width, 2 * width, 4, 2, 1, bias=spectral_norm)),
            nn.Identity() if spectral_norm else nn.BatchNorm2d(2 * width),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
        )
        self.head = sn(nn.Linear(features, 1))
        self.embed = sn(nn.Embedding(classes, features)) if classes else None

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        h = self.net(x)
        logit = self.head(h).squeeze(1)
        return logit if self.embed is None else logit + (self.embed(y) * h).sum(1)


def gan_losses(kind: str, smooth: float = 0.9) -> tuple[Callable, Callable]:
    """(discriminator loss(real logits, fake logits), generator loss(fake logits)). ``bce``: DCGAN's
    non-saturating loss with real labels smoothed to ``smooth``; ``hinge``: SNGAN's / BigGAN's."""
    if kind == "bce":

        def loss_d(real: Tensor, fake: Tensor) -> Tensor:
            return F.binary_cross_entropy_with_logits(real, torch.full_like(real, smooth)) + (
                F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))
            )

        return loss_d, lambda fake: F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))
    if kind == "hinge":
        return (lambda real, fake: F.relu(1 - real).mean() + F.relu(1 + fake).mean()), (lambda fake: -fake.mean())
    raise ValueError(f"unknown GAN loss {kind!r}: use 'bce' or 'hinge'")


@register("dcgan")
def train_dcgan(e: Entry, o: Options):
    """Radford et al. (2015): Adam at ``lr`` with beta1 0.5, one discriminator step then one generator step
    per batch, codes N(0, I). The generator kept is the exponential moving average of the trained one's
    weights (as GANs since ProGAN keep): the live generator jitters from step to step as the two players chase
    each other, its average does not. ``recipe.extra`` may change the loss (``loss``, ``smooth``), the
    discriminator (``d_width``, ``spectral_norm``, ``lr_d``), ``betas``, the average's ``ema`` decay and
    ``autocast`` ("bfloat16": both networks' forward passes under bf16 autocast, twice the steps per second on
    a CPU with AMX; weights, optimisers and losses stay float32). A class-conditional generator (``classes``
    in the entry's kwargs) trains on MNIST's labels against a projection discriminator: real digits come with
    their label, generated ones with the class their code asked for."""
    from tqdm.auto import tqdm

    from .trainer import pick_device

    hp = {"loss": "bce", "smooth": 0.9, "spectral_norm": False, "betas": (0.5, 0.999), "ema": 0.999} | e.recipe.extra
    device = pick_device(o.device)
    if hp.get("autocast") not in (None, "bfloat16"):
        raise ValueError(f"autocast must be 'bfloat16' or left out, got {hp['autocast']!r}")
    mixed = partial(torch.autocast, device.type, torch.bfloat16, enabled=hp.get("autocast") is not None)
    model = e.build()
    pixels, labels = data.mnist_pixels(train=True)
    X, Y = model.to_input(pixels[: o.train_limit]), labels[: o.train_limit]
    G = model.decoder.to(device)
    D = Discriminator(hp.get("d_width", e.kwargs.get("width", 64)), hp["spectral_norm"], model.classes).to(device)
    average = swa_utils.AveragedModel(G, multi_avg_fn=swa_utils.get_ema_multi_avg_fn(hp["ema"]))
    opt_g = optim.Adam(G.parameters(), lr=o.lr, betas=tuple(hp["betas"]))
    opt_d = optim.Adam(D.parameters(), lr=hp.get("lr_d", o.lr), betas=tuple(hp["betas"]))
    d_loss, g_loss = gan_losses(hp["loss"], hp["smooth"])
    gen = torch.Generator().manual_seed(o.seed)
    history = []
    for epoch in range(1, o.epochs + 1):
        G.train(), D.train()
        order = torch.randperm(len(X), generator=gen)
        start, seen = time.perf_counter(), 0
        loss_d_sum = loss_g_sum = torch.zeros((), dtype=torch.float64, device=device)
        batches = range(0, len(X) - o.batch_size + 1, o.batch_size)
        bar = tqdm(batches, desc=f"epoch {epoch}/{o.epochs}", disable=not o.progress, leave=False, mininterval=1.0)
        for step, i in enumerate(bar, 1):
            batch = order[i : i + o.batch_size]
            real, real_y = X[batch].to(device), Y[batch].to(device)
            z = torch.randn(len(real), model.hidden_dim, generator=gen).to(device)
            fake_y = G.class_of(z)  # the class each code asks for (all 0 and unused when unconditional)
            with mixed():
                fake = G(z)
                real_logits, fake_logits = D(real, real_y), D(fake.detach(), fake_y)
            loss_d = d_loss(real_logits.float(), fake_logits.float())
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            with mixed():
                fake_logits = D(fake, fake_y)
            loss_g = g_loss(fake_logits.float())
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            average.update_parameters(G)
            seen += len(real)
            loss_d_sum, loss_g_sum = loss_d_sum + loss_d.detach(), loss_g_sum + loss_g.detach()
            if step % 25 == 0:
                rate = seen / (time.perf_counter() - start)
                d, g = (loss_d_sum / step).item(), (loss_g_sum / step).item()
                bar.set_postfix(d=f"{d:.3f}", g=f"{g:.3f}", samples_s=f"{rate:,.0f}")
        bar.close()
        seconds = time.perf_counter() - start
        n = max(1, len(batches))
        record = {"epoch": epoch, "loss_d": loss_d_sum.item() / n, "loss_g": loss_g_sum.item() / n}
        record |= {"seconds": seconds, "samples_per_s": seen / seconds}
        history.append(record)
        if o.progress:
            tqdm.write(f"epoch {epoch}: " + ", ".join(f"{k} {v:.4g}" for k, v in record.items() if k != "epoch"))
        if o.on_epoch is not None:  # a snapshot of what training would return now (sweeps, `bench/gan_sweep.py`)
            snapshot = copy.deepcopy(model)
            snapshot.decoder = _measured_bn(copy.deepcopy(average.module), torch.Generator().manual_seed(0), device)
            o.on_epoch(epoch, snapshot.cpu().eval())
    model.decoder = _measured_bn(average.module, gen, device)
    return model.cpu().eval(), history


def _measured_bn(generator: nn.Module, gen: torch.Generator, device: torch.device) -> nn.Module:
    """Batch-norm statistics measured for the averaged weights, which never ran during training."""
    codes = (torch.randn(256, generator.hidden_dim, generator=gen) for _ in range(100))
    swa_utils.update_bn(codes, generator, device)
    return generator
