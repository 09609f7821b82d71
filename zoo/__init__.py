"""dlfs-zoo: the models of *Deep Learning from Scratch*, chapter 7, as a ranked model hub.

    import zoo
    model = zoo.load("mnist-convnet-book")      # embedded copy, a folder, or the HF Hub
    zoo.leaderboard("digits")                   # ranked rows from the cards' model-index

Imports only torch, safetensors, huggingface_hub and numpy.
"""

from .catalog import ENTRIES, TASKS, UnknownModelError, validate_name
from .hub import ConfigError, list_models, load, load_folder, save_checkpoint
from .leaderboard import leaderboard
from .models import (
    MNISTMLP,
    VAE,
    Autoencoder,
    CharRNN,
    HousePricesModel,
    LinearRegressor,
    MNISTConvNet,
    MNISTModernCNN,
    NextCharacterModel,
    PyTorchModel,
    TreeEnsembleRegressor,
    WeightsIntegrityError,
)  # fmt: skip

__version__ = "0.1.0"
__all__ = [
    "ENTRIES", "TASKS", "UnknownModelError", "validate_name", "ConfigError", "list_models", "load",
    "load_folder", "save_checkpoint", "leaderboard", "VAE", "Autoencoder", "CharRNN", "HousePricesModel",
    "LinearRegressor", "MNISTConvNet", "MNISTMLP", "MNISTModernCNN", "NextCharacterModel", "PyTorchModel",
    "TreeEnsembleRegressor", "WeightsIntegrityError",
]  # fmt: skip
