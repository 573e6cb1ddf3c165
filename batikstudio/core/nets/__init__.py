"""StyleGAN2 networks with NVlabs-compatible parameter names (pure PyTorch, fast CPU path).

``ARCHITECTURES`` is the explicit registry used by model files: architecture name ->
``(GeneratorConfig, Generator, DiscriminatorConfig, Discriminator)``.
"""

from batikstudio.core.nets.config import DiscriminatorConfig, GeneratorConfig
from batikstudio.core.nets.discriminator import Discriminator
from batikstudio.core.nets.mapping import MappingNetwork
from batikstudio.core.nets.synthesis import Generator, SynthesisNetwork

__all__ = [
    "ARCHITECTURES",
    "Discriminator",
    "DiscriminatorConfig",
    "Generator",
    "GeneratorConfig",
    "MappingNetwork",
    "SynthesisNetwork",
]

ARCHITECTURES = {"stylegan2": (GeneratorConfig, Generator, DiscriminatorConfig, Discriminator)}
