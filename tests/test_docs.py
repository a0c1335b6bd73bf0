"""The README must stay true to the code: every setting documented, the commands it shows valid."""

import dataclasses
import re
from pathlib import Path

import nst
from nst.cli import build_parser

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_setting_has_a_documented_option():
    for field in dataclasses.fields(nst.StyleConfig):
        assert f"`--{field.name.replace('_', '-')}" in README, field.name


def test_every_stylize_option_is_documented():
    stylize = build_parser()._subparsers._group_actions[0].choices["stylize"]
    for action in stylize._actions:
        long = [o for o in action.option_strings if o.startswith("--") and o != "--help"]
        if long:
            assert f"`{long[0]}" in README, long[0]


def test_every_preset_is_documented():
    assert set(nst.config.PRESET_SUMMARIES) == set(nst.config.PRESETS)
    for name, summary in nst.config.PRESET_SUMMARIES.items():
        row = next(line for line in README.splitlines() if line.startswith(f"| `{name}` |"))
        assert row.endswith(f"| {summary} |"), name


def test_readme_commands_parse():
    parser = build_parser()
    for line in re.findall(r"^nst (stylize .*?)(?:\s+#.*)?$", README, flags=re.M):
        parser.parse_args(line.split())


def test_every_option_of_the_instant_commands_is_documented():
    commands = build_parser()._subparsers._group_actions[0].choices
    for name in ("train", "export", "models", "demo"):
        for action in commands[name]._actions:
            long = [o for o in action.option_strings if o.startswith("--") and o not in ("--help", "--json")]
            if long:
                assert f"`{long[0]}" in README, f"nst {name} {long[0]}"
