"""Entry script of the packaged application: the ``batikstudio`` command (no command = the app).

PyInstaller freezes this file; everything else comes from the ``batikstudio`` package.
``freeze_support`` lets the frozen executable act as a ``multiprocessing`` child (data loaders
in training use worker processes).
"""

import multiprocessing

from batikstudio.cli.main import run

if __name__ == "__main__":
    multiprocessing.freeze_support()
    run()
