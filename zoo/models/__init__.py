"""Every model of the zoo: the chapter's four (as the book writes them) and the variants that compete with them.

Each model is a ``PyTorchModelHubMixin``: ``save_pretrained`` writes ``model.safetensors`` + ``config.json``,
``from_pretrained`` reads them back and loads *strictly*. The preprocessing a model needs (MNIST mean/std,
the autoencoder's input scale, the text vocabulary, the houses' scaler) is an ``__init__`` argument, so it
lands in ``config.json`` — the one place training, evaluation and the app read it from.

As in the book, ``forward`` returns a tuple whose first item is the prediction (the trainer uses
``model(X)[0]``); the autoencoders return ``(reconstruction, encoding)``.

One module per idea, each importing only those above it:

    base         what every model shares: hub save/load (strict, hash-checked), constants, config migration
    registry     ``@architecture`` and ``ARCHITECTURES``: the classes a config.json may name
    fastpaths    which equivalent way of training a ConvNet is fastest on this CPU (measured once, cached)
    layers       the book's building blocks (DenseLayer, ConvLayer, LSTMLayer, its Dropout)
    houses       Boston house prices: the book's network and the scikit-learn baselines
    digits       MNIST classifiers
    text         character models: vocabulary and sampling, the book's LSTM, CharRNN
    transformer  CharTransformer and its cached decoder
    latent       images from a 28-d code: autoencoder, VAE, DCGAN
"""

from ..basics import AUTOENCODER_SCALE, CONFIG_NAME, MNIST_NORMALIZE, WEIGHTS_NAME, sha256_file
from . import layers
from .base import RENAMED_KEYS, PyTorchModel, WeightsIntegrityError, migrate_config
from .digits import MNISTMLP, DigitsModel, MNISTConvNet, MNISTModernCNN
from .houses import HousePricesModel, HousesModel, LinearRegressor, TreeEnsembleRegressor
from .latent import DCGAN, MAX_SEARCH_STEPS, VAE, Autoencoder, DCGANGenerator, Decoder, Encoder, LatentModel
from .layers import ConvLayer, DenseLayer, LSTMLayer, assert_dim
from .registry import ARCHITECTURES, architecture, resolve
from .text import CharRNN, CharSampler, NextCharacterModel, TextModel
from .transformer import CausalSelfAttention, CharTransformer, KVCache, TransformerBlock

__all__ = [
    # base (the constants and sha256_file: zoo.basics, torch-free)
    "AUTOENCODER_SCALE",
    "CONFIG_NAME",
    "MNIST_NORMALIZE",
    "RENAMED_KEYS",
    "WEIGHTS_NAME",
    "PyTorchModel",
    "WeightsIntegrityError",
    "migrate_config",
    "sha256_file",
    # registry
    "ARCHITECTURES",
    "architecture",
    "resolve",
    # layers
    "layers",
    "ConvLayer",
    "DenseLayer",
    "LSTMLayer",
    "assert_dim",
    # houses
    "HousesModel",
    "HousePricesModel",
    "LinearRegressor",
    "TreeEnsembleRegressor",
    # digits
    "DigitsModel",
    "MNISTConvNet",
    "MNISTMLP",
    "MNISTModernCNN",
    # text
    "TextModel",
    "CharSampler",
    "NextCharacterModel",
    "CharRNN",
    # transformer
    "KVCache",
    "CausalSelfAttention",
    "TransformerBlock",
    "CharTransformer",
    # latent
    "Encoder",
    "Decoder",
    "LatentModel",
    "Autoencoder",
    "VAE",
    "DCGANGenerator",
    "MAX_SEARCH_STEPS",
    "DCGAN",
]
