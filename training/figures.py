"""The chapter's autoencoder figures (7-3, 7-4, 7-5) for every latent model, and the app's MNIST sample.

t-SNE of the 10,000 test codes runs once per checkpoint (scikit-learn) and is cached on disk next to the
data, keyed by the weights' sha256.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from zoo.catalog import ENTRIES
from zoo.checkpoint_io import load_folder
from zoo.models import ARCHITECTURES, LatentModel

from . import data


def tsne_codes(model, pixels: torch.Tensor, cache_dir: Path) -> np.ndarray:
    from sklearn.manifold import TSNE

    cache = cache_dir / f"tsne-{model.config['weights_sha256'][:16]}.npy"
    if cache.is_file():
        return np.load(cache)
    with torch.inference_mode():
        codes = torch.cat([model.encode(model.to_input(pixels[i : i + 1000])) for i in range(0, len(pixels), 1000)])
    emb = TSNE(n_components=2, init="pca", random_state=0, perplexity=30).fit_transform(codes.numpy())
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, emb)
    return emb


def write_figures(hub_dir: Path, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    pixels, labels = data.mnist_pixels(train=False)
    written = []
    for name, entry in ENTRIES.items():
        if not issubclass(ARCHITECTURES[entry.architecture], LatentModel) or not (hub_dir / name).is_dir():
            continue
        model = load_folder(hub_dir / name)
        if model.has_encoder:  # a GAN has no codes of test digits to show: only its samples (7-5)
            written += _encoder_figures(name, model, pixels, labels, out, plt)
        # 7-5: random codes from the model's prior through the decoder
        with torch.inference_mode():
            codes = model.sample_codes(36, torch.Generator().manual_seed(0))
            images = model.to_pixels(model.decode(codes)).squeeze(1).numpy()
        fig, axes = plt.subplots(6, 6, figsize=(5, 5))
        for ax, img in zip(axes.flat, images, strict=True):
            ax.imshow(img, cmap="gray")
            ax.axis("off")
        fig.suptitle(f"{name}: random codes decoded")
        written.append(_save(fig, out / f"fig7-5-{name}.png"))
    # the app's sample of real test digits (100 per class) for "random MNIST digit" and interpolation
    rng = np.random.default_rng(0)
    keep = np.concatenate([rng.choice(np.flatnonzero(labels.numpy() == d), 100, replace=False) for d in range(10)])
    sample = out.parent / "mnist_sample.npz"
    np.savez_compressed(sample, images=(pixels[keep, 0].numpy() * 255).astype(np.uint8), labels=labels.numpy()[keep])
    written.append(sample)
    return written


def _encoder_figures(name: str, model, pixels: torch.Tensor, labels: torch.Tensor, out: Path, plt) -> list[Path]:
    """Figures 7-3 (reconstructions) and 7-4 (t-SNE of the test codes) of a model with an encoder."""
    written = []
    # 7-3: ten test digits and their reconstructions
    idx = [int(np.flatnonzero(labels.numpy() == d)[0]) for d in range(10)]
    with torch.inference_mode():
        recon = model.to_pixels(model(model.to_input(pixels[idx]))[0]).squeeze(1).numpy()
    fig, axes = plt.subplots(2, 10, figsize=(10, 2.2))
    for i in range(10):
        axes[0, i].imshow(pixels[idx[i], 0], cmap="gray")
        axes[1, i].imshow(recon[i], cmap="gray")
    for ax in axes.flat:
        ax.axis("off")
    fig.suptitle(f"{name}: test digits (top) and reconstructions (bottom)")
    written.append(_save(fig, out / f"fig7-3-{name}.png"))
    # 7-4: t-SNE of every test code
    emb = tsne_codes(model, pixels, data.data_dir() / "tsne")
    fig, ax = plt.subplots(figsize=(6, 6))
    sc = ax.scatter(emb[:, 0], emb[:, 1], c=labels.numpy(), cmap="tab10", s=2)
    ax.legend(*sc.legend_elements(), loc="upper right", fontsize=7, markerscale=0.8)
    ax.set_title(f"{name}: t-SNE of the 10,000 test codes")
    ax.axis("off")
    written.append(_save(fig, out / f"fig7-4-{name}.png"))
    return written


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=80, bbox_inches="tight")
    plt.close(fig)
    tmp.replace(path)
    return path
