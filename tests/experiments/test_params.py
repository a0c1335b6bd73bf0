"""nst sweep's parameters: parsing, the cartesian product, formatting."""

from __future__ import annotations

import pytest

from nst.errors import InputError
from nst.experiments.params import Param, expand, format_value, parse_param, parse_params
from tests.experiments.helpers import TINY

pytestmark = pytest.mark.usefixtures("one_thread")


def test_parse_param_types_follow_styleconfig() -> None:
    assert parse_param("style_weight=1e4,8000,5e3") == Param("style_weight", (1e4, 8000.0, 5000.0))
    assert parse_param("iterations=10,20").values == (10, 20)
    assert all(type(v) is int for v in parse_param("iterations=10,20").values)
    assert parse_param("size=none,64").values == (None, 64)
    assert parse_param("pooling=avg,max").values == ("avg", "max")
    assert parse_param("style-weight=1").name == "style_weight"  # the option's spelling works too
    assert parse_param("style_layers=conv1_1+conv2_1,conv3_1").values == (
        ("conv1_1", "conv2_1"),
        ("conv3_1",),
    )
    # '+' inside a number's exponent is not a separator
    assert parse_param("style_layer_weights=1e+2+0.5").values == ((100.0, 0.5),)
    # one number for every salient layer, or one per layer
    assert parse_param("salient_quantile=0.8,0.9+0.8").values == (0.8, (0.9, 0.8))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("style_wieght=1", "did you mean style_weight"),
        ("nonsense=1", "unknown setting 'nonsense'"),
        ("style_weight=abc", "'abc' is not a number"),
        ("iterations=1.5", "'1.5' is not an integer"),
        ("size=big", "not an integer"),
        ("style_weight=", "non-empty"),
        ("style_weight=1,,2", "non-empty"),
        ("style_weight", "expected NAME=VALUE"),
        ("=1,2", "expected NAME=VALUE"),
        ("style_weight=1,1.0", "listed twice"),
        ("style_layers=conv1_1++conv2_1", "empty item"),
    ],
)
def test_parse_param_refuses(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_param(text)


def test_parse_params_refuses_nothing_and_repeats() -> None:
    with pytest.raises(InputError, match="at least one"):
        parse_params([])
    with pytest.raises(InputError, match="more than once"):
        parse_params(["style_weight=1", "style-weight=2"])


def test_expand_is_the_cartesian_product_first_slowest() -> None:
    params = parse_params(["style_weight=1e4,5e3", "tv_weight=0,0.1,1"])
    combos = expand(TINY, params)
    assert [tuple(v.values()) for v, _ in combos] == [
        (1e4, 0.0), (1e4, 0.1), (1e4, 1.0), (5e3, 0.0), (5e3, 0.1), (5e3, 1.0)
    ]  # fmt: skip
    for varied, config in combos:
        assert config.style_weight == varied["style_weight"] and config.tv_weight == varied["tv_weight"]
        assert config.size == 32 and config.iterations == 2  # everything else from the base


def test_expand_refuses_a_combination_styleconfig_rejects() -> None:
    with pytest.raises(InputError, match=r"style_weight=-1: style_weight must be >= 0"):
        expand(TINY, [parse_param("style_weight=1,-1")])
    # valid alone, invalid together: five layer weights for two layers
    base = TINY.with_changes(style_layer_weights=(1.0,) * 5)
    with pytest.raises(InputError, match="style_layers=conv1_1\\+conv2_1"):
        expand(base, [parse_param("style_layers=conv1_1+conv2_1")])


def test_format_value_round_trips_through_parsing() -> None:
    for text in ("style_weight=10000,0.001", "size=none,96", "style_layers=conv1_1+conv5_1"):
        name, _, values = text.partition("=")
        parsed = parse_param(text)
        assert ",".join(format_value(v) for v in parsed.values) == values
