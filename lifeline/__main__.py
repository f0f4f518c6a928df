"""`python -m lifeline`: the same program as the `lifeline` command."""

import sys

from lifeline.entry import main

sys.exit(main())
