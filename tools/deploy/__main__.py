"""`python -m tools.deploy --port PORT`: the deploy in tools/deploy/__init__.py."""

import sys

from tools.deploy import main

sys.exit(main())
