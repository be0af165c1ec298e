"""The registry and every spec in it: schema, parameter counts, lookups, no TensorFlow import."""

from __future__ import annotations

import dataclasses
import importlib
import json
import subprocess
import sys

import pytest

import zoo
from zoo import registry
from zoo.spec import PREPROCESSING_MODES, validate_spec

from conftest import ROOT, ZOO_COMMAND, run_zoo

ALL = zoo.list_models()


def test_registry_has_every_classic_model():
    assert set(ALL) >= {
        "mcculloch_pitts",
        "perceptron",
        "backprop_2_2_2",
        "softmax_regression",
        "mlp_625",
        "modern_mlp",
        "mnist_convnet",
        "prewitt",
        "mnist_autoencoder",
        "mnist_rnn",
    }


@pytest.mark.parametrize("name", ALL)
def test_spec_is_valid(name):
    spec = zoo.get_spec(name)
    assert validate_spec(spec) == []
    assert spec.preprocessing in PREPROCESSING_MODES
    json.dumps(spec.describe())  # JSON-ready


def test_each_spec_names_its_family_module():
    """``family`` is the applications module that defines the spec: one meaning for all."""
    for module in registry.FAMILY_MODULES:
        for spec in importlib.import_module(f"applications.{module}").SPECS:
            assert spec.family == module, spec.name
            assert (spec.keras_function is None) == (module == "classic"), spec.name
    assert zoo.get_spec("resnet50_v2").keras_function == "ResNet50V2"
    assert zoo.get_spec("inception_resnet_v2").family == "inception"


def test_filters_and_wildcards():
    mnist = zoo.list_models(dataset="mnist")
    assert mnist == sorted(mnist)
    assert set(mnist) == {
        "softmax_regression",
        "mlp_625",
        "modern_mlp",
        "mnist_convnet",
        "mnist_committee",
        "mnist_autoencoder",
        "mnist_rnn",
    }
    assert zoo.list_models("mnist_*") == [
        "mnist_autoencoder",
        "mnist_committee",
        "mnist_convnet",
        "mnist_rnn",
    ]
    assert zoo.list_models("*mlp*", pretrained=True) == ["mlp_625", "modern_mlp"]
    assert zoo.list_models(pretrained=False) == []
    assert zoo.list_models("nothing*") == []


def test_unknown_name_suggests_closest():
    with pytest.raises(
        ValueError, match=r"Unknown model 'mnist_cnn'\. Did you mean 'mnist_convnet'\?"
    ):
        zoo.get_spec("mnist_cnn")
    with pytest.raises(zoo.UnknownModelError, match="Did you mean 'perceptron'"):
        zoo.get_spec("perceptrn")
    with pytest.raises(zoo.UnknownModelError, match="zoo list"):
        zoo.get_spec("qqqq")


def test_duplicate_names_raise():
    spec = zoo.get_spec("perceptron")
    with pytest.raises(ValueError, match="Duplicate model name 'perceptron'"):
        registry.build_registry([[spec], [spec]])


def test_invalid_spec_raises():
    bad = dataclasses.replace(zoo.get_spec("perceptron"), name="Bad-Name", preprocessing="odd")
    with pytest.raises(ValueError, match="not snake_case.*preprocessing 'odd'"):
        registry.build_registry([[bad]])


@pytest.mark.parametrize(
    "code",
    [
        "import zoo",
        "import zoo; zoo.list_models(); zoo.get_spec('mnist_convnet').describe()",
        "from zoo.cli import main; main(['list'])",
        "from zoo.cli import main; main(['list', '--json'])",
        "from zoo.cli import main; main(['info', 'mnist_convnet'])",
        "from zoo.cli import main; main(['info', 'mobilenet_v2_1.0_224', '--json'])",
        "from zoo.cli import main; main(['verify'])",
    ],
)
def test_light_paths_import_neither_tensorflow_nor_beam(code):
    probe = (
        f"{code}\nimport sys\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'apache_beam') if m in sys.modules]"
        "\nassert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", probe], check=True, cwd=ROOT, capture_output=True)


@pytest.mark.parametrize("command", [["--help"], ["list"], ["info", "mnist_convnet"]])
def test_zoo_help_list_and_info_import_neither_tensorflow_nor_beam(command):
    """The installed command, as a user runs it: ``python -X importtime`` lists every module
    the process imported."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", str(ZOO_COMMAND), *command],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    assert "zoo.cli.app" in imported and "zoo.registry" in imported
    heavy = {m for m in imported if m.partition(".")[0] in ("tensorflow", "keras", "apache_beam")}
    assert heavy == set()
    assert result.stdout.strip()


def test_cli_list_json_matches_registry():
    result = run_zoo("list", "--dataset", "mnist", "--json", check=True)
    listed = json.loads(result.stdout)
    assert [entry["name"] for entry in listed] == zoo.list_models(dataset="mnist")
    assert all(entry["weights"]["sha256"] for entry in listed)


def test_cli_list_table():
    result = run_zoo("list", check=True)
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["name", "dataset", "year"]
    assert len(lines) == len(ALL) + 3  # header, models, blank line, legend
    assert any(line.startswith("mnist_convnet") and "99.50" in line for line in lines)
