"""torch.hub entry points for dlfs-zoo: one per family, ``variant=`` picks the zoo entry.

import torch
model = torch.hub.load("dlfs-zoo/dlfs-zoo", "mnist_convnet")                      # from GitHub
model = torch.hub.load(".", "mnist_convnet", source="local", variant="mnist-cnn-modern")
print(torch.hub.list("dlfs-zoo/dlfs-zoo"))

Each docstring's list of variants is generated from ``zoo.catalog.ENTRIES``.
"""

dependencies = ["torch", "safetensors", "huggingface_hub", "numpy"]


def _entry(family: str, variant: str, pretrained: bool, **kwargs):
    import zoo
    from zoo.catalog import ENTRIES, canonical, family_entries
    from zoo.config import read_config
    from zoo.sources import submitted_folder

    name = canonical(variant)
    submitted = submitted_folder(name)  # a finished submission (python -m zoo submit) of this family
    if submitted is not None and pretrained:
        architecture = read_config(submitted)["architecture"]
        if family in {e.family for e in ENTRIES.values() if e.architecture == architecture}:
            return zoo.load(name, **kwargs)
    if name not in ENTRIES or ENTRIES[name].family != family:
        raise ValueError(f"variant {variant!r} is not a {family} model; choose one of {family_entries(family)}")
    if pretrained:
        return zoo.load(name, **kwargs)
    return ENTRIES[name].build()  # freshly initialised, built from the entry's declaration alone


def _variants(fn):
    """Fill the docstring's ``{variants}`` with the family's entries, as the catalog declares them."""
    from zoo.catalog import family_entries

    fn.__doc__ = fn.__doc__.replace("{variants}", ", ".join(family_entries(fn.__name__)))
    return fn


@_variants
def house_prices(pretrained: bool = True, variant: str = "house-prices-notebook", **kwargs):
    """Boston house prices from 13 features (the book's MLP, or a scikit-learn baseline).

    Variants: {variants}.
    ``model.scale(features)`` standardises raw features (order in ``model.config["feature_names"]``).

    >>> model = torch.hub.load("dlfs-zoo/dlfs-zoo", "house_prices")
    >>> price = model(model.scale(model.config["feature_medians"]))[0]   # a typical house, in $1000s
    """
    return _entry("house_prices", variant, pretrained, **kwargs)


@_variants
def mnist_convnet(pretrained: bool = True, variant: str = "mnist-convnet-book", **kwargs):
    """MNIST digit classifier: ``model.preprocess(pixels)`` (28x28 in [0, 1], white on black) -> 10 logits.

    Variants: {variants}.

    >>> model = torch.hub.load("dlfs-zoo/dlfs-zoo", "mnist_convnet", variant="mnist-cnn-modern")
    >>> logits = model(model.preprocess(pixels))[0]
    """
    return _entry("mnist_convnet", variant, pretrained, **kwargs)


@_variants
def char_rnn(pretrained: bool = True, variant: str = "char-lstm-book", **kwargs):
    """Character-level Shakespeare generator (LSTM or GRU); the vocabulary is ``model.vocab``.

    Variants: {variants}.

    >>> model = torch.hub.load("dlfs-zoo/dlfs-zoo", "char_rnn", variant="char-lstm-256")
    >>> print("".join(model.generate("ROMEO:\\n", length=200, temperature=0.8, seed=0)))
    """
    return _entry("char_rnn", variant, pretrained, **kwargs)


@_variants
def char_transformer(pretrained: bool = True, variant: str = "char-transformer", **kwargs):
    """Character-level Shakespeare with a small GPT (causal self-attention, key/value cache when generating).

    Variants: {variants}.

    >>> model = torch.hub.load("dlfs-zoo/dlfs-zoo", "char_transformer")
    >>> print("".join(model.generate("ROMEO:\\n", length=200, temperature=0.8, top_k=20, seed=0)))
    """
    return _entry("char_transformer", variant, pretrained, **kwargs)


def char_lstm(pretrained: bool = True, variant: str = "char-lstm-book", **kwargs):
    """The old name of ``char_rnn`` (the family serves a GRU too); kept so existing code keeps working."""
    return char_rnn(pretrained, variant, **kwargs)


@_variants
def autoencoder(pretrained: bool = True, variant: str = "autoencoder-book", **kwargs):
    """MNIST autoencoder with a 28-d latent: ``encode``, ``decode``, ``sample_codes``, ``to_input``, ``to_pixels``.

    Variants: {variants}.

    >>> model = torch.hub.load("dlfs-zoo/dlfs-zoo", "autoencoder", variant="vae-28")
    >>> images = model.to_pixels(model.decode(model.sample_codes(16)))   # (16, 1, 28, 28) in [0, 1]
    """
    return _entry("autoencoder", variant, pretrained, **kwargs)


@_variants
def gan(pretrained: bool = True, variant: str = "dcgan-28", **kwargs):
    """A DCGAN generator for MNIST: any 28-d N(0, I) code decodes to a digit (the book's named fix for 7-5).

    Variants: {variants}.
    ``dcgan-28`` is class-conditional (trained with MNIST's labels): the code's first value picks the digit
    (ten equally likely bins of N(0, 1)). ``dcgan-28-unconditional`` never saw a label: its bins are shapes
    it chose itself (InfoGAN), not digits in order.
    No encoder: ``model.encode(images)`` searches for the codes (gradient descent on the reconstruction).

    >>> model = torch.hub.load("dlfs-zoo/dlfs-zoo", "gan")
    >>> images = model.to_pixels(model.decode(model.sample_codes(16)))   # (16, 1, 28, 28) in [0, 1]
    >>> model.decoder.class_of(model.sample_codes(4))                    # the digit each code asks for
    """
    return _entry("gan", variant, pretrained, **kwargs)
