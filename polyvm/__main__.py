"""``python -m polyvm`` runs the command line."""

import sys

from polyvm.cli import main

sys.exit(main())
