"""``python -m batikstudio`` runs the command line (and ``torchrun -m batikstudio train``)."""

import sys

from batikstudio.cli.main import main

sys.exit(main())
