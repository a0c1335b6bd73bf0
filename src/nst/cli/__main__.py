"""`python -m nst.cli`: the same as the `nst` command."""

import sys

from nst.cli import main

sys.exit(main())
