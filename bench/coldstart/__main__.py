"""Entry point for `python -m bench.coldstart`."""

import sys

from bench.coldstart.cli import main

sys.exit(main())
