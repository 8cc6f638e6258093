"""``python -m plugnn`` is the ``plugnn`` command."""

import sys

from plugnn.cli import command

sys.exit(command())
