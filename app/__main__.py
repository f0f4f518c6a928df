"""`python -m app`: kept for source checkouts, scripts and the autostart entry written
by earlier versions; it is the `lifeline` program (lifeline.entry)."""

import sys

from lifeline.entry import main

sys.exit(main())
