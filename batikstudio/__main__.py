"""``python -m batikstudio`` runs the command line (and ``torchrun -m batikstudio train``)."""

from batikstudio.cli.main import run

run()
