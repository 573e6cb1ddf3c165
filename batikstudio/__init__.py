"""Batik Studio: GAN motif generation and print preparation for batik artisans."""

__version__ = "0.1.0"
