"""The docs must stay true to the code: every setting and option documented, the commands shown valid."""

import dataclasses
import re
from pathlib import Path

import nst
import nst.optimise.presets
from nst.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
#: README and every page of docs/ (docs/options.md is generated from the configs).
DOCS = "\n".join([README, *(page.read_text() for page in sorted((ROOT / "docs").glob("*.md")))])


def test_every_setting_has_a_documented_option():
    for field in dataclasses.fields(nst.StyleConfig):
        assert f"`--{field.name.replace('_', '-')}" in DOCS, field.name


def test_every_stylize_option_is_documented():
    stylize = build_parser()._subparsers._group_actions[0].choices["stylize"]
    for action in stylize._actions:
        long = [o for o in action.option_strings if o.startswith("--") and o != "--help"]
        if long:
            assert f"`{long[0]}" in DOCS, long[0]


def test_every_preset_is_documented():
    assert set(nst.optimise.presets.PRESET_SUMMARIES) == set(nst.optimise.presets.PRESETS)
    for name, summary in nst.optimise.presets.PRESET_SUMMARIES.items():
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
                assert f"`{long[0]}" in DOCS, f"nst {name} {long[0]}"


def _defaults_in(row: str) -> list[float]:
    """The numbers in the default column of a README options row."""
    return [float(value) for value in row.split("|")[2].split(",")]


def test_the_numeric_defaults_in_the_options_tables_are_the_codes():
    # Each row of the stylize table whose default is numbers: the StyleConfig field of that option.
    config = nst.StyleConfig()
    stylize_table = README.split("\n## Options\n")[1].split("| option |")[1].split("\n\n")[0]
    checked = []
    for row in stylize_table.splitlines():
        match = re.match(r"\| `--([a-z-]+)[^`]*` \| [-0-9.e, ]+ \|", row)
        field = match.group(1).replace("-", "_") if match else None
        if field and hasattr(config, field):
            value = getattr(config, field)
            assert _defaults_in(row) == list(value if isinstance(value, tuple) else [value]), field
            checked.append(field)
    assert {"style_weight", "laplacian_weight", "subject_weight"} <= set(checked)


def test_the_video_docs_describe_every_option_and_setting() -> None:
    from nst.video.config import VideoConfig

    text = (ROOT / "docs" / "video.md").read_text()
    video = build_parser("video")._subparsers._group_actions[0].choices["video"]
    shared = {a.dest for a in build_parser("stylize")._subparsers._group_actions[0].choices["stylize"]._actions}
    for action in video._actions:
        long = [o for o in action.option_strings if o.startswith("--") and o != "--help"]
        if long and (action.dest not in shared or action.dest in ("size", "preserve_color", "overwrite", "resume")):
            assert f"`{long[0]}" in text, long[0]
    for field in dataclasses.fields(VideoConfig):
        assert f"`--{field.name.replace('_', '-')}" in text or f"`{field.name}`" in text, field.name
    defaults = VideoConfig()
    assert f"| `--consistency C` | {defaults.consistency:g} |" in text
    assert f"| `--crf N` | {defaults.crf} |" in text
    assert f"| `--temporal-weight W` | {defaults.temporal_weight:g} |" in text
    readme = README
    parser = build_parser()
    for line in re.findall(r"^nst (video .*?)(?:\s+#.*)?$", readme + text, flags=re.M):
        parser.parse_args(line.split())
