"""A ``.keras`` file saved from a zoo model loads in a fresh process and predicts the same.

Models are saved here (``model.save``) and loaded with ``keras.saving.load_model`` in fresh
subprocesses (one for all of them, to pay TensorFlow's import once), which predict on the same
saved inputs; the outputs must be exactly equal (``assert_array_equal``: the same float ops on the
same CPU give the same bits, and they do).

Which models:

* every classic model (``family == "classic"``), with its shipped or builtin weights;
* ImageNet models built with ``weights=None`` (random weights: loading, not accuracy, is tested),
  at their spec size with the classifier. Saving all 78 would write several GB and take many
  minutes, and even the 49 under 10M parameters take about 5 minutes (800 MB) on 2 cores. What
  saving exercises is the set of layer and op types of an architecture, and the variants of one
  keras.applications family (MobileNet widths and input sizes, EfficientNet B0..B2) differ only
  in sizes. So the sample is, of the models under 10M parameters, the smallest of each family
  (``FAMILY`` below: DenseNet, EfficientNet, EfficientNetV2, MobileNet v1, v2, v3 and v3
  minimalistic, NASNet), plus, for each preprocessing mode that sample lacks, the smallest
  model of that mode (caffe: resnet50; torch is covered by densenet121). The sample is computed
  from the registry, so a new family gets in by being registered.

``test_imagenet_and_mnist_load_without_zoo`` loads one model per preprocessing mode in an
isolated interpreter that never imports zoo: their preprocessing is built from Keras' own ops
and layers only.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import zoo
from zoo.preprocessing import CAFFE_MEAN_BGR, TORCH_MEAN, TORCH_STD, preprocess
from zoo.spec import PREPROCESSING_MODES

from conftest import ROOT, uint8_noise

#: Keras' saving converts every variable with np.array(x): NumPy 2 warns once per variable.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
SMALL_PARAMS = 10_000_000
CLASSIC = [name for name in zoo.list_models() if zoo.get_spec(name).family == "classic"]

#: All a user does: ``import zoo`` registers zoo's Keras objects when Keras is imported.
IMPORT_ZOO = "import zoo\n"


def family(spec) -> tuple[str, bool]:
    """The keras.applications family of an ImageNet spec: its function without the variant
    suffix (B0, 121, Small...), and whether it is MobileNetV3's minimalistic variant (other
    layer types)."""
    function = spec.keras_function
    return (
        re.sub(r"(B\d+|\d+|Small|Large)$", "", function),
        bool(spec.builder_kwargs.get("minimalistic")),
    )


def imagenet_sample() -> list[str]:
    specs = [zoo.get_spec(name) for name in zoo.list_models()]
    specs = [spec for spec in specs if spec.dataset == "imagenet"]

    def size(spec):
        return spec.params, spec.input_shape[0], spec.name

    sample: dict[object, object] = {}
    for spec in sorted((s for s in specs if s.params < SMALL_PARAMS), key=size):
        sample.setdefault(family(spec), spec)
    covered = {spec.preprocessing for spec in sample.values()}
    for spec in sorted(specs, key=size):
        if spec.preprocessing not in covered:
            covered.add(spec.preprocessing)
            sample[spec.preprocessing] = spec
    return [spec.name for spec in sample.values()]


IMAGENET = imagenet_sample()


def example_input(spec) -> np.ndarray:
    """2-4 inputs of the model's input shape: logic truth tables, images of uint8 noise."""
    shape = tuple(12 if dim is None else dim for dim in spec.input_shape)
    if len(shape) == 1:
        if spec.input_dtype == "float64":  # the backprop example: any real inputs
            return np.random.default_rng(0).random((4, *shape))
        return np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=spec.input_dtype)
    return uint8_noise((2, *shape))


def run_python(code: str, *args, isolated: bool = False, cwd=ROOT) -> subprocess.CompletedProcess:
    command = [sys.executable, *(["-I"] if isolated else []), "-c", code, *map(str, args)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, f"subprocess failed:\n{result.stderr[-6000:]}"
    return result


#: Loads ``names`` (a JSON list) from ``folder``, predicts on ``inputs.npz`` and saves the
#: outputs as ``out``; ``{prelude}`` are the imports (zoo's or none).
LOAD = """\
{prelude}
import json, sys
from pathlib import Path

import keras
import numpy as np

folder, names, out = Path(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
inputs = np.load(folder / "inputs.npz")
outputs = {{}}
for name in names:
    model = keras.saving.load_model(folder / f"{{name}}.keras")
    outputs[name] = keras.ops.convert_to_numpy(model(inputs[name], training=False))
np.savez(folder / out, **outputs)
{epilogue}
"""

#: The one-shot import hook is gone once Keras is imported, and Keras kept its own loader.
HOOK_GONE = """\
assert "zoo.layers" in sys.modules
assert not any(type(f).__name__ == "_KerasImportHook" for f in sys.meta_path), sys.meta_path
assert type(keras.__spec__.loader).__name__ != "_LoaderWrapper", keras.__spec__.loader
"""


#: The tests on ``saved`` run in one xdist worker (``--dist loadgroup``), so that the models
#: are built and saved once (about 30 s), not once per worker.
SAVED_ONCE = pytest.mark.xdist_group("saved_models")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The folder with ``NAME.keras`` for every tested model, ``inputs.npz`` and the outputs
    computed before saving, ``expected.npz``."""
    import keras

    folder = tmp_path_factory.mktemp("saved")
    inputs, expected = {}, {}
    for name in CLASSIC + IMAGENET:
        spec = zoo.get_spec(name)
        model = zoo.load(name, weights="default" if spec.family == "classic" else None)
        inputs[name] = example_input(spec)
        expected[name] = keras.ops.convert_to_numpy(model(inputs[name], training=False))
        model.save(folder / f"{name}.keras")
        del model
    np.savez(folder / "inputs.npz", **inputs)
    np.savez(folder / "expected.npz", **expected)
    return folder


def load_elsewhere(saved, names, prelude: str, epilogue: str = "", isolated=False, cwd=ROOT):
    out = f"outputs_{abs(hash((prelude, tuple(names))))}.npz"
    code = LOAD.format(prelude=prelude, epilogue=epilogue)
    run_python(code, saved, json.dumps(names), out, isolated=isolated, cwd=cwd)
    return np.load(saved / out), np.load(saved / "expected.npz")


def test_sample_covers_every_mode_and_family():
    specs = [zoo.get_spec(name) for name in IMAGENET]
    assert {spec.preprocessing for spec in specs} == set(PREPROCESSING_MODES) - {"mnist"}
    small = {
        family(zoo.get_spec(name))
        for name in zoo.list_models()
        if zoo.get_spec(name).dataset == "imagenet" and zoo.get_spec(name).params < SMALL_PARAMS
    }
    assert small <= {family(spec) for spec in specs}
    assert len(CLASSIC) == 11


@SAVED_ONCE
def test_every_model_loads_in_a_fresh_process(saved):
    """``import zoo; import keras; load_model``: every sampled model predicts the same."""
    names = CLASSIC + IMAGENET
    outputs, expected = load_elsewhere(saved, names, IMPORT_ZOO, HOOK_GONE)
    for name in names:
        assert outputs[name].dtype == expected[name].dtype, name
        np.testing.assert_array_equal(outputs[name], expected[name], err_msg=name)


@SAVED_ONCE
def test_classic_loads_when_keras_is_imported_before_zoo(saved):
    names = ["perceptron", "backprop_2_2_2", "mnist_autoencoder"]
    prelude = "import sys\nimport keras\nassert 'zoo' not in sys.modules\n" + IMPORT_ZOO
    outputs, expected = load_elsewhere(saved, names, prelude, "assert 'zoo.layers' in sys.modules")
    for name in names:
        np.testing.assert_array_equal(outputs[name], expected[name], err_msg=name)


@SAVED_ONCE
def test_imagenet_and_mnist_load_without_zoo(saved, tmp_path):
    """One ImageNet model per preprocessing mode, and an MNIST model, in ``python -I`` from an
    empty folder: no zoo on sys.path, and an import of zoo (possible through the editable
    install's finder) fails loudly instead of registering anything."""
    by_mode = {}
    for name in IMAGENET:  # the smallest of each mode
        spec = zoo.get_spec(name)
        if (
            by_mode.get(spec.preprocessing) is None
            or spec.params < zoo.get_spec(by_mode[spec.preprocessing]).params
        ):
            by_mode[spec.preprocessing] = name
    names = [*by_mode.values(), "mnist_convnet"]
    prelude = (
        textwrap.dedent("""\
        import sys

        class NoZoo:
            def find_spec(self, name, path=None, target=None):
                if name.partition(".")[0] in ("zoo", "applications"):
                    raise ImportError(f"{name} imported while loading a model without zoo")

        sys.meta_path.insert(0, NoZoo())
        """)
        + f"assert not {{{str(ROOT)!r}, ''}} & set(sys.path), sys.path\n"
    )
    epilogue = (
        "assert not [m for m in sys.modules if m.partition('.')[0] in ('zoo', 'applications')]"
    )
    outputs, expected = load_elsewhere(saved, names, prelude, epilogue, isolated=True, cwd=tmp_path)
    assert set(PREPROCESSING_MODES) == {zoo.get_spec(n).preprocessing for n in names}
    for name in names:
        np.testing.assert_array_equal(outputs[name], expected[name], err_msg=name)


# -- preprocessing ----------------------------------------------------------------------------


def all_pixel_values() -> np.ndarray:
    """A uint8 batch (1, 16, 16, 3) in which every channel holds each of the 256 values once."""
    values = np.arange(256, dtype=np.uint8)
    return np.stack([values, values[::-1], np.roll(values, 85)], axis=-1).reshape(1, 16, 16, 3)


def former_preprocessing(x: np.ndarray, mode: str) -> np.ndarray:
    """The formulas of the former ImagePreprocessing layer, in float32."""
    x = x.astype(np.float32)
    f32 = np.float32
    if mode == "mnist":
        return x / f32(255.0)
    if mode == "tf":
        return x / f32(127.5) - f32(1.0)
    if mode == "caffe":
        return x[..., ::-1] - np.asarray(CAFFE_MEAN_BGR, f32)
    if mode == "torch":
        return (x / f32(255.0) - np.asarray(TORCH_MEAN, f32)) / np.asarray(TORCH_STD, f32)
    return x


@pytest.mark.parametrize("mode", PREPROCESSING_MODES)
def test_preprocessing_values_unchanged(mode):
    """Every mode gives exactly the former layer's values: the same float32 operations, now as
    Keras ops (mnist's x / 255 must stay a division: the shipped weights retrain bit-exactly),
    with no weights and no captured constants."""
    import keras

    x = all_pixel_values()
    inputs = keras.Input(x.shape[1:], name="inputs")
    model = keras.Model(inputs, preprocess(inputs, mode))
    assert model.count_params() == 0
    assert model.layers[-1].name == "preprocessing"
    new = keras.ops.convert_to_numpy(model(x))
    assert new.dtype == np.float32
    np.testing.assert_array_equal(new, former_preprocessing(x, mode))
    # no constant tensors captured by a traced call: tf2onnx would make them extra inputs
    import tensorflow as tf

    traced = tf.function(model).get_concrete_function(tf.TensorSpec((None, *x.shape[1:])))
    assert not traced.captured_inputs


def test_preprocessing_computes_in_its_dtype_under_mixed_precision():
    import keras

    from zoo.backend import dtype_policy

    with dtype_policy("mixed_float16"):
        for mode in PREPROCESSING_MODES:
            inputs = keras.Input((4, 4, 3), name="inputs")
            assert preprocess(inputs, mode).dtype == "float32", mode
        inputs = keras.Input((2,), dtype="float64", name="inputs")
        assert preprocess(inputs, "raw", dtype="float64").dtype == "float64"


def test_unknown_preprocessing_mode_names_the_valid_ones():
    with pytest.raises(ValueError, match="Unknown preprocessing mode 'bgr'; valid: raw, mnist"):
        preprocess(None, "bgr")


# -- registration -----------------------------------------------------------------------------


def test_import_zoo_imports_neither_keras_nor_tensorflow():
    probe = IMPORT_ZOO + textwrap.dedent("""\
        import sys
        loaded = [m for m in sys.modules if m.partition(".")[0] in ("keras", "tensorflow")]
        assert not loaded, loaded
        assert "zoo.layers" not in sys.modules
        assert any(type(f).__name__ == "_KerasImportHook" for f in sys.meta_path)
        """)
    run_python(probe)


def test_a_failing_registration_warns_and_keras_still_imports(tmp_path):
    """With a stand-in ``keras`` (which zoo.layers cannot use), ``import keras`` still works,
    gives that module with its own loader, and warns once; the hook is gone."""
    (tmp_path / "keras").mkdir()
    (tmp_path / "keras" / "__init__.py").write_text("STAND_IN = True\n")
    probe = f"import sys, warnings\nsys.path.insert(0, {str(tmp_path)!r})\n" + IMPORT_ZOO
    probe += textwrap.dedent("""\
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import keras
        assert keras.STAND_IN
        assert type(keras.__spec__.loader).__name__ == "SourceFileLoader", keras.__spec__.loader
        assert keras.__loader__ is keras.__spec__.loader
        messages = [str(w.message) for w in caught]
        assert len(messages) == 1 and "could not register" in messages[0], messages
        assert "zoo.layers" not in sys.modules and "tensorflow" not in sys.modules
        assert not any(type(f).__name__ == "_KerasImportHook" for f in sys.meta_path)
        """)
    run_python(probe)


def test_import_zoo_alone_registers_on_keras_import():
    probe = "import sys\nimport zoo\nimport keras\nassert 'zoo.layers' in sys.modules\n"
    run_python(probe)


def test_autoencoder_keeps_its_decoder_through_a_keras_file(tmp_path):
    """The autoencoder's ``reconstruct`` needs its decoder, which is not part of the
    classifier's graph: its config carries it, and its weights are saved with the model."""
    model = zoo.load("mnist_autoencoder")
    digits = np.random.default_rng(0).integers(0, 256, (3, 28, 28)).astype("uint8")
    np.save(tmp_path / "digits.npy", digits)
    np.save(tmp_path / "expected.npy", np.asarray(model.reconstruct(digits)))
    model.save(tmp_path / "autoencoder.keras")
    probe = (
        "import sys\nimport numpy as np\nimport zoo\nimport keras\n"
        "folder = sys.argv[1]\n"
        "model = keras.saving.load_model(folder + '/autoencoder.keras')\n"
        "got = np.asarray(model.reconstruct(np.load(folder + '/digits.npy')))\n"
        "np.testing.assert_array_equal(got, np.load(folder + '/expected.npy'))\n"
    )
    run_python(probe, tmp_path)


@SAVED_ONCE
def test_each_spec_names_the_zoo_objects_its_keras_file_needs(saved):
    """`zoo info` tells which files need `import zoo`: the spec's list is what the saved
    config really names."""
    from zoo.user_files import keras_config

    def registered(config) -> set[str]:
        found = set()
        if isinstance(config, dict):
            name = config.get("registered_name")
            if isinstance(name, str) and name.startswith("zoo>"):
                found.add(name)
            for value in config.values():
                found |= registered(value)
        elif isinstance(config, list):
            for item in config:
                found |= registered(item)
        return found

    for name in CLASSIC + IMAGENET:
        named = registered(keras_config(saved / f"{name}.keras"))
        assert named == set(zoo.get_spec(name).custom_objects), name
