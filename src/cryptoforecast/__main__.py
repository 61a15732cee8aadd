"""``python -m cryptoforecast``: the command line, as the ``cryptoforecast`` script runs it."""

import sys

from cryptoforecast.cli import main

sys.exit(main())
