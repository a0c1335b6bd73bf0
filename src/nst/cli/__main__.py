"""`python -m nst.cli`: the same as the `nst` command."""

from nst.cli import entry

entry()
