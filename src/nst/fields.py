"""Config fields that describe themselves, so the command line makes each option from its field.

Every job's frozen config dataclass (`StyleConfig`, `TrainConfig`, `InstantConfig`) declares its
user-facing fields with `setting`; nst.cli.settings turns them into options and docs/options.md
is generated from them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

#: The groups a setting's option is shown in: what a user needs first, then the rest.
SETTING_GROUPS = ("basic", "expert")


def setting(
    default: Any,
    help: str,
    *,
    group: str = "expert",
    metavar: str | None = None,
    choices: tuple[str, ...] | None = None,
    shown: str | None = None,
    empty: str | None = None,
) -> Any:
    """A dataclass field that says what it is, for the command line's option ``--field-name``
    (nst.cli.settings makes the option from it; its type comes from the field's annotation).

    ``help``: one line, without the default; ``group``: one of `SETTING_GROUPS`; ``metavar`` and
    ``choices`` as argparse's; ``shown``: the default as the help says it (else the default
    itself; "" says none); ``empty``: the word that gives an empty list of layers.
    """
    if group not in SETTING_GROUPS:
        raise ValueError(f"group must be one of {SETTING_GROUPS}, got {group!r}")
    metadata = {"help": help, "group": group, "metavar": metavar, "choices": choices, "shown": shown, "empty": empty}
    return dataclasses.field(default=default, metadata={k: v for k, v in metadata.items() if v is not None})
