"""Write templates/chat.json from the stack/ package: ``python build_template.py [--check]``.

The documented entry point (`make template`). The rules import chatlib.contract, as
Lambda does, so lambdas/ goes on sys.path before the package is imported.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path[:0] = [str(p) for p in (ROOT, ROOT / "lambdas") if str(p) not in sys.path]

from stack.build import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
