#!/usr/bin/env python3
"""Developer tool: record the weight files Keras itself would fetch for every ImageNet variant.

For each variant it calls the keras.applications function with ``weights="imagenet"`` and
intercepts Keras' ``get_file`` call, recording the file name, URL and the hash Keras pins (md5
or sha256, or none), plus the parameter count of the built model; nothing is downloaded.
The output (one JSON object per line) is what the ImageNet specs in ``applications/`` were
written from.

    python scripts/keras_weights_table.py [NAME ...] > weights_table.jsonl
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


class _Captured(Exception):
    pass


def capture(function_name: str, include_top: bool, **kwargs) -> dict:
    import keras
    from keras.src.utils import file_utils

    record: dict = {}

    def fake_get_file(fname=None, origin=None, file_hash=None, **rest):
        frame = sys._getframe(1)
        model = frame.f_locals.get("model")
        record.update(
            file=fname,
            url=origin,
            hash=file_hash,
            params=model.count_params() if model is not None else None,
        )
        if model is not None:
            record["size"] = model.inputs[0].shape[1]
        if model is not None and not include_top:
            from applications.keras_imagenet import stride_outputs

            record["stages"] = {
                str(stride): {"last": layer, "channels": channels}
                for stride, (layer, channels) in stride_outputs(model).items()
            }
        raise _Captured

    original = file_utils.get_file
    file_utils.get_file = fake_get_file
    try:
        getattr(keras.applications, function_name)(
            include_top=include_top, weights="imagenet", **kwargs
        )
    except _Captured:
        pass
    finally:
        file_utils.get_file = original
    keras.backend.clear_session()
    return record


def variants():
    """(registry name, keras function, keyword arguments) of every ImageNet variant."""
    simple = {
        "vgg16": "VGG16",
        "vgg19": "VGG19",
        "resnet50": "ResNet50",
        "resnet101": "ResNet101",
        "resnet152": "ResNet152",
        "resnet50_v2": "ResNet50V2",
        "resnet101_v2": "ResNet101V2",
        "resnet152_v2": "ResNet152V2",
        "inception_v3": "InceptionV3",
        "inception_resnet_v2": "InceptionResNetV2",
        "xception": "Xception",
        "densenet121": "DenseNet121",
        "densenet169": "DenseNet169",
        "densenet201": "DenseNet201",
        "nasnet_mobile": "NASNetMobile",
        "nasnet_large": "NASNetLarge",
        "convnext_tiny": "ConvNeXtTiny",
        "convnext_small": "ConvNeXtSmall",
        "convnext_base": "ConvNeXtBase",
        "convnext_large": "ConvNeXtLarge",
        "convnext_xlarge": "ConvNeXtXLarge",
    }
    simple.update({f"efficientnet_b{i}": f"EfficientNetB{i}" for i in range(8)})
    simple.update(
        {
            f"efficientnet_v2_{s.lower()}": f"EfficientNetV2{s}"
            for s in ("B0", "B1", "B2", "B3", "S", "M", "L")
        }
    )
    for name, function in simple.items():
        yield name, function, {}
    for size in ("small", "large"):
        for minimalistic in (False, True):
            suffix = "_minimalistic" if minimalistic else ""
            yield (
                f"mobilenet_v3_{size}{suffix}",
                f"MobileNetV3{size.title()}",
                {"minimalistic": minimalistic},
            )
    for alpha in ("0.25", "0.5", "0.75", "1.0"):
        for rows in (128, 160, 192, 224):
            yield (
                f"mobilenet_v1_{alpha}_{rows}",
                "MobileNet",
                {"alpha": float(alpha), "input_shape": (rows, rows, 3)},
            )
    for alpha in ("0.35", "0.5", "0.75", "1.0", "1.3", "1.4"):
        for rows in (224,) if alpha in ("1.3", "1.4") else (96, 128, 160, 192, 224):
            yield (
                f"mobilenet_v2_{alpha}_{rows}",
                "MobileNetV2",
                {"alpha": float(alpha), "input_shape": (rows, rows, 3)},
            )


def main() -> None:
    only = set(sys.argv[1:])
    for name, function, kwargs in variants():
        if only and name not in only:
            continue
        top = capture(function, True, **kwargs)
        size = top["size"] = top["size"] or 224  # models that take any size default to 224
        no_top = capture(function, False, **{"input_shape": (size, size, 3), **kwargs})
        print(
            json.dumps(
                {"name": name, "function": function, "kwargs": kwargs, "top": top, "no_top": no_top}
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
