"""StyleGAN2 networks with NVlabs-compatible parameter names (pure PyTorch, fast CPU path),
plus a small DCGAN baseline family.

``ARCHITECTURES`` is the explicit registry used by model files and the trainer: architecture
name -> ``(GeneratorConfig, Generator, DiscriminatorConfig, Discriminator)``.
"""

from batikstudio.core.nets.config import DiscriminatorConfig, GeneratorConfig
from batikstudio.core.nets.dcgan import (
    DCGANDiscriminator, DCGANDiscriminatorConfig, DCGANGenerator, DCGANGeneratorConfig,
)
from batikstudio.core.nets.discriminator import Discriminator
from batikstudio.core.nets.mapping import MappingNetwork
from batikstudio.core.nets.synthesis import Generator, SynthesisNetwork

__all__ = [
    "ARCHITECTURES",
    "DCGANDiscriminator",
    "DCGANDiscriminatorConfig",
    "DCGANGenerator",
    "DCGANGeneratorConfig",
    "Discriminator",
    "DiscriminatorConfig",
    "Generator",
    "GeneratorConfig",
    "MappingNetwork",
    "SynthesisNetwork",
    "architecture_of",
]

ARCHITECTURES = {
    "stylegan2": (GeneratorConfig, Generator, DiscriminatorConfig, Discriminator),
    "dcgan": (DCGANGeneratorConfig, DCGANGenerator, DCGANDiscriminatorConfig, DCGANDiscriminator),
}


def architecture_of(g_cfg: object) -> str:
    """Registry name of the family a generator config belongs to.

    Raises:
        ValueError: for a config type that is not registered.
    """
    for name, (g_cls, *_) in ARCHITECTURES.items():
        if type(g_cfg) is g_cls:
            return name
    raise ValueError(f"no registered architecture uses {type(g_cfg).__name__}")
