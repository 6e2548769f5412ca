"""Entry point for `python -m cost`."""

import sys

from cost.cli import main

sys.exit(main())
