"""`python -m bench.system`: see bench/system/run.py."""

import sys

from bench.system.run import main

sys.exit(main())
