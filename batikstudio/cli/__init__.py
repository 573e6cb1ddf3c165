"""The ``batikstudio`` command line."""
