"""``python -m cryptoforecast.cli``."""

import sys

from cryptoforecast.cli import main

sys.exit(main())
