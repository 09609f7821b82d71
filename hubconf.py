"""torch.hub entry points for dlfs-zoo: one per book family, ``variant=`` picks the zoo entry.

import torch
model = torch.hub.load("dlfs-zoo/dlfs-zoo", "mnist_convnet")                      # from GitHub
model = torch.hub.load(".", "mnist_convnet", source="local", variant="mnist-cnn-modern")
print(torch.hub.list("dlfs-zoo/dlfs-zoo"))
"""

dependencies = ["torch", "safetensors", "huggingface_hub", "numpy"]


def _entry(family: str, variant: str, pretrained: bool, **kwargs):
    import zoo
    from zoo.hub import read_config, validate_config

    entry = zoo.ENTRIES.get(variant)
    if entry is None or entry.family != family:
        allowed = [n for n, e in zoo.ENTRIES.items() if e.family == family]
        raise ValueError(f"variant {variant!r} is not a {family} model; choose one of {allowed}")
    if pretrained:
        return zoo.load(variant, **kwargs)
    # a freshly initialised model with the same architecture and preprocessing as the checkpoint
    config = read_config(zoo.hub.embedded_hub() / variant)
    cls = validate_config(config)
    init = {k: v for k, v in config.items() if k not in zoo.hub.META_KEYS}
    model = cls(**init)
    model.config = {k: v for k, v in config.items() if k != "weights_sha256"}
    return model


def house_prices(pretrained: bool = True, variant: str = "house-prices-notebook", **kwargs):
    """Boston house prices from 13 standardised features (the book's MLP, or a scikit-learn baseline).

    Variants: house-prices-book, house-prices-notebook, houses-linear-regression, houses-random-forest.
    Scale inputs with ``model.config["normalize"]`` (mean/std per feature, order in ``feature_names``).

    >>> model = torch.hub.load("dlfs-zoo/dlfs-zoo", "house_prices")
    >>> price = model(torch.zeros(1, 13))[0]          # the average house, in $1000s
    """
    return _entry("house_prices", variant, pretrained, **kwargs)


def mnist_convnet(pretrained: bool = True, variant: str = "mnist-convnet-book", **kwargs):
    """MNIST digit classifier: (N, 1, 28, 28) normalised with ``model.config["normalize"]`` -> 10 logits.

    Variants: mnist-convnet-book, mnist-convnet-notebook, mnist-mlp, mnist-cnn-modern.

    >>> model = torch.hub.load("dlfs-zoo/dlfs-zoo", "mnist_convnet", variant="mnist-cnn-modern")
    >>> n = model.config["normalize"]; logits = model((pixels - n["mean"]) / n["std"])[0]
    """
    return _entry("mnist_convnet", variant, pretrained, **kwargs)


def char_lstm(pretrained: bool = True, variant: str = "char-lstm-book", **kwargs):
    """Character-level Shakespeare generator; the vocabulary is ``model.vocab``.

    Variants: char-lstm-book, char-lstm-256, char-gru-2layer.

    >>> model = torch.hub.load("dlfs-zoo/dlfs-zoo", "char_lstm", variant="char-lstm-256")
    >>> print("".join(model.generate("ROMEO:\\n", length=200, temperature=0.8, seed=0)))
    """
    return _entry("char_lstm", variant, pretrained, **kwargs)


def autoencoder(pretrained: bool = True, variant: str = "autoencoder-book", **kwargs):
    """MNIST autoencoder with a 28-d latent: ``encode``, ``decode``, ``sample_codes``; inputs in [-1, 1].

    Variants: autoencoder-book (the book's), vae-28 (a VAE whose random codes decode to digits).

    >>> model = torch.hub.load("dlfs-zoo/dlfs-zoo", "autoencoder", variant="vae-28")
    >>> images = model.decode(model.sample_codes(16))   # (16, 1, 28, 28) in [-1, 1]
    """
    return _entry("autoencoder", variant, pretrained, **kwargs)
