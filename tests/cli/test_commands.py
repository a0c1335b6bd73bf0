"""The command table and the options made from settings: each command registered once, each
setting an option once, and the same answer to the same mistake whichever way a picture is painted."""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import re
from pathlib import Path

import pytest
from PIL import Image

import nst
from nst import cli
from nst.cli.batch import photos_from


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return parser._subparsers._group_actions[0].choices


def _options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {o: a for a in parser._actions for o in a.option_strings if o.startswith("--")}


def test_every_command_is_one_row_of_the_table_and_one_module():
    names = [c.name for c in cli.COMMANDS]
    assert len(names) == len(set(names))
    assert list(_commands(cli.build_parser())) == names  # `nst --help` lists them in the table's order
    for command in cli.COMMANDS:
        module = importlib.import_module(f"nst.cli.{command.module}")
        assert callable(module.add_arguments) and callable(module.run), command.name
        assert list(_commands(cli.build_parser(command.name))) == [command.name]


def test_no_hand_written_cli_module_is_long():
    for path in (Path(cli.__file__).parent).glob("*.py"):
        assert len(path.read_text().splitlines()) <= 400, path.name


@pytest.mark.parametrize("command", ["stylize", "demo", "sweep", "grid", "batch", "video"])
def test_every_setting_is_one_option_with_its_default(command):
    options = _options(_commands(cli.build_parser(command))[command])
    defaults = nst.StyleConfig()
    for field in dataclasses.fields(nst.StyleConfig):
        action = options[f"--{field.name.replace('_', '-')}"]
        assert action.dest == field.name and action.default == getattr(defaults, field.name), field.name
        assert action.help and ("default" in action.help or field.name == "mask"), field.name


def test_the_basic_settings_come_first_in_help():
    text = _commands(cli.build_parser("stylize"))["stylize"].format_help()
    basic, expert = text.index("style settings (nst's defaults"), text.index("expert style settings")
    assert basic < expert
    for option in ("--preset", "--size N", "--iterations N", "--content-weight A", "--preserve-color"):
        assert option in text[basic:expert], option
    for option in ("--salient-quantile Q[,Q]", "--pooling", "--tv-weight W"):
        assert option in text[expert:], option
    assert "defaults: the paper's" not in text
    assert "(default: max; the paper's: avg)" in " ".join(text.split())  # a deviation says so


def _config(*flags: str) -> nst.StyleConfig:
    argv = ["stylize", "c.png", "s.png", "-o", "o.png", *flags]
    args = cli.build_parser().parse_args(argv)
    args.given = cli.given_options(argv)
    return cli.config_from_args(args)


def test_option_types_follow_the_annotations():
    assert _config("--size", "auto").size is None and _config("--size", "64").size == 64
    assert _config("--preset", "paper", "--scales", "auto").scales is None  # auto overrides the preset's 1
    assert _config("--style-layers", "conv1_1, conv2_1").style_layers == ("conv1_1", "conv2_1")
    assert _config("--salient-quantile", "1,0.8").salient_quantile == (1.0, 0.8)
    assert _config("--style-blend", "1,3").style_blend == (1.0, 3.0)
    assert _config("--salient-quantile", "0.7").salient_quantile == 0.7
    with pytest.raises(cli.UsageError, match="--style-layers needs a comma-separated list"):
        _config("--style-layers", "")
    with pytest.raises(cli.UsageError, match="argument --scales: not an integer: 'many'"):
        _config("--scales", "many")


def test_train_options_are_train_configs_fields():
    train = _commands(cli.build_parser("train"))["train"]
    options = _options(train)
    documented = [f for f in dataclasses.fields(nst.TrainConfig) if "help" in f.metadata]
    assert {f"--{f.name.replace('_', '-')}" for f in documented} <= set(options)
    assert "--pooling" not in options  # a field without help is not an option
    args = train.parse_args(["p.jpg", "--photos", "d", "-o", "m.pt", "--sizes", "64,128", "--iterations", "3,4"])
    config = cli.settings.settings_from_args(args, nst.TrainConfig)
    assert config == nst.TrainConfig(sizes=(64, 128), iterations=(3, 4))


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Image.new("RGB", (64, 48), (200, 100, 50)).save("c.png")
    Image.new("RGB", (48, 48), (20, 100, 250)).save("s.png")
    (tmp_path / "photos").mkdir()
    Image.new("RGB", (64, 48)).save("photos/a.png")
    return tmp_path


@pytest.mark.parametrize(
    "argv",
    [
        ["stylize", "c.png", "s.png", "-o", "o.png"],
        ["stylize", "c.png", "--model", "starry-night", "-o", "o.png"],
        ["demo", "-o", "o.png"],
        ["demo", "--optimise", "-o", "o.png"],
        ["batch", "photos", "--model", "starry-night", "-o", "out"],
        ["video", "c.png", "--model", "starry-night", "-o", "o.mp4"],
    ],
)
def test_size_zero_gets_one_message_whichever_way(argv, work, capsys):
    assert cli.main([*argv, "--size", "0"]) == 2
    assert capsys.readouterr().err == "error: size must be between 1 and 16384, got 0\n"
    assert sorted(p.name for p in work.iterdir()) == ["c.png", "photos", "s.png"]


def test_a_folder_with_a_painting_says_what_paints_folders(work, capsys):
    assert cli.main(["stylize", "photos", "s.png", "-o", "dir"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a directory, not a file" in err
    assert "--instant (any painting) or a style model (--model NAME)" in err and "nst batch photos --style" in err


def test_batch_model_then_folder_keeps_the_folder_a_folder_of_photos(work):
    args = _commands(cli.build_parser("batch"))["batch"].parse_args(
        ["--model", "starry-night", "photos", "-o", "out"]
    )
    assert photos_from(args) == ["photos"] and args.model == ["starry-night"]
    args = _commands(cli.build_parser("batch"))["batch"].parse_args(["--style", "s.png", "c.png", "-o", "out"])
    with pytest.raises(cli.UsageError, match="give the photos"):
        photos_from(args)


def test_demo_help_says_what_it_does():
    text = _commands(cli.build_parser("demo"))["demo"].format_help()
    assert re.search(r"Paint matplotlib's sample photo", text)
    assert "--optimise" in text and "no files" in text


def test_cli_flags_for_the_pyramid_settings_override_a_preset():
    from nst import cli

    def config(*flags):
        argv = ["stylize", "c.png", "s.png", "-o", "out.png", *flags]
        args = cli.build_parser().parse_args(argv)
        args.given = cli.given_options(argv)
        return cli.config_from_args(args)

    default = config()
    assert default.final_only_style_layers == ("conv5_1",)
    assert config("--final-only-style-layers", "none").final_only_style_layers == ()
    assert default.salient_quantile == (0.9, 0.8) and config("--salient-quantile", "0.8").salient_quantile == 0.8
    assert config("--salient-quantile", "0.9,0.8").salient_quantile == (0.9, 0.8)
    paper = config("--preset", "paper", "--final-only-style-layers", "conv4_1,conv5_1")
    assert paper.final_only_style_layers == ("conv4_1", "conv5_1")
    assert paper.style_layer_weights is None and paper.scales == 1  # the rest is the paper's
