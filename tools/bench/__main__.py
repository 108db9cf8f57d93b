"""`python -m tools.bench` (`make bench`): the runner in tools/bench/__init__.py."""

import sys

from tools.bench import main

sys.exit(main())
