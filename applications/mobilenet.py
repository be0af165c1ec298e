"""MobileNet v1 (Howard et al. 2017), v2 (Sandler et al. 2018), v3 (Howard et al. 2019):
ImageNet specs over keras.applications.

The file names, URLs and hashes are the ones Keras itself uses (recorded with
`scripts/keras_weights_table.py`); top-1/top-5 are published figures, with their source.
v1 and v2 come in a grid of widths and sizes whose specs differ only in the figures tabled here.
"""

from applications.keras_imagenet import imagenet_spec, keras_weights, stages

#: Keras pins no hash for MobileNet v1/v2 files; these are the sha256 of the files we checked.
KNOWN_SHA256 = {
    "mobilenet_2_5_128_tf.h5": "fe295db7f78635f1403127e3ba8cdc6237f83262bdb745063a67c1d81190c7f8",
    "mobilenet_2_5_128_tf_no_top.h5": (
        "45fda4a3624e00a8116521790f8b92a9be97db0430ea080953ab6f022998b30a"
    ),
    "mobilenet_2_5_224_tf_no_top.h5": (
        "dbdb03ee2a22fd895301636cd328b234bb3a9952358f436d82f46b81e0d5b0bf"
    ),
}

#: v1 width -> (parameters, how Keras' file names write the width)
V1_WIDTHS = {
    0.25: (475_544, "2_5"),
    0.5: (1_342_536, "5_0"),
    0.75: (2_601_976, "7_5"),
    1.0: (4_253_864, "1_0"),
}
#: v1 stage channels at width 1.0 (strides 2, 4, 8, 16, 32), scaled by the width
V1_CHANNELS = (64, 128, 256, 512, 1024)
V1_LAYERS = (
    "conv_pw_1_relu",
    "conv_pw_3_relu",
    "conv_pw_5_relu",
    "conv_pw_11_relu",
    "conv_pw_13_relu",
)
#: (width, size) -> (top-1, top-5 of the 2017_06_14 checkpoint, the current slim table's
#: re-trained 2018_02_22 top-1/top-5)
V1_ACCURACY = {
    (0.25, 128): (41.3, 66.2, "41.5/66.3"),
    (0.25, 160): (46.0, 70.7, "45.5/70.3"),
    (0.25, 192): (49.0, 73.6, "47.7/72.3"),
    (0.25, 224): (50.6, 75.0, "49.8/74.2"),
    (0.5, 128): (56.2, 79.6, "56.3/79.4"),
    (0.5, 160): (59.9, 82.5, "59.1/81.9"),
    (0.5, 192): (62.1, 84.0, "61.7/83.6"),
    (0.5, 224): (64.0, 85.4, "63.3/84.9"),
    (0.75, 128): (61.8, 83.6, "62.1/83.9"),
    (0.75, 160): (65.2, 86.1, "65.3/86.0"),
    (0.75, 192): (67.4, 87.3, "67.2/87.3"),
    (0.75, 224): (68.4, 88.2, "68.4/88.2"),
    (1.0, 128): (64.1, 85.3, "65.2/85.8"),
    (1.0, 160): (67.2, 87.5, "68.0/87.7"),
    (1.0, 192): (69.3, 88.9, "70.0/89.2"),
    (1.0, 224): (70.7, 89.5, "70.9/89.9"),
}
V1_SOURCE = (
    "TF-slim mobilenet_v1.md, MobileNet_v1_{width}_{size} 2017_06_14 checkpoint row "
    "(the checkpoints keras' mobilenet_*_tf.h5 weights were translated from), "
    "https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet_v1.md"
    " (current revision lists re-trained 2018_02_22 checkpoint: {retrained})"
)

#: v2 width -> (parameters, stage channels at strides 2, 4, 8, 16, 32)
V2_WIDTHS = {
    0.35: (1_691_208, (48, 48, 96, 192, 1280)),
    0.5: (1_987_224, (48, 96, 96, 288, 1280)),
    0.75: (2_663_064, (96, 144, 144, 432, 1280)),
    1.0: (3_538_984, (96, 144, 192, 576, 1280)),
    1.3: (5_431_048, (144, 192, 240, 768, 1664)),
    1.4: (6_156_712, (144, 192, 288, 816, 1792)),
}
V2_LAYERS = (
    "block_1_expand_relu",
    "block_3_expand_relu",
    "block_6_expand_relu",
    "block_13_expand_relu",
    "out_relu",
)
#: (width, size) -> (top-1, top-5)
V2_ACCURACY = {
    (0.35, 96): (45.5, 70.4),
    (0.35, 128): (50.8, 75.0),
    (0.35, 160): (55.7, 79.1),
    (0.35, 192): (58.2, 81.2),
    (0.35, 224): (60.3, 82.9),
    (0.5, 96): (51.2, 75.8),
    (0.5, 128): (57.7, 80.8),
    (0.5, 160): (61.0, 83.2),
    (0.5, 192): (63.9, 85.4),
    (0.5, 224): (65.4, 86.4),
    (0.75, 96): (58.8, 81.6),
    (0.75, 128): (63.2, 85.3),
    (0.75, 160): (66.4, 87.3),
    (0.75, 192): (68.7, 88.9),
    (0.75, 224): (69.8, 89.6),
    (1.0, 96): (60.3, 83.2),
    (1.0, 128): (65.3, 86.9),
    (1.0, 160): (68.8, 89.0),
    (1.0, 192): (70.7, 90.1),
    (1.0, 224): (71.8, 91.0),
    (1.3, 224): (74.4, 92.1),
    (1.4, 224): (75.0, 92.5),
}
V2_SOURCE = (
    "TF-slim mobilenet/README.md, mobilenet_v2_{width}_{size} row (also in keras "
    "mobilenet_v2.py docstring), "
    "https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet/README.md"
)


def _keras_file(folder: str, name: str):
    return keras_weights(folder, name, KNOWN_SHA256.get(name))


def _mobilenet_v1(width: float, size: int):
    top1, top5, retrained = V1_ACCURACY[width, size]
    params, file_width = V1_WIDTHS[width]
    stem = f"mobilenet_{file_width}_{size}_tf"
    return imagenet_spec(
        f"mobilenet_v1_{width}_{size}",
        "MobileNet",
        summary=f"MobileNet v1, width {width}, {size} px",
        size=size,
        preprocessing="tf",
        params=params,
        year=2017,
        top=_keras_file("mobilenet", f"{stem}.h5"),
        no_top=_keras_file("mobilenet", f"{stem}_no_top.h5"),
        top1=top1,
        top5=top5,
        source=V1_SOURCE.format(width=width, size=size, retrained=retrained),
        feature_stages=stages(
            {
                2 ** (i + 1): (layer, int(channels * width))
                for i, (layer, channels) in enumerate(zip(V1_LAYERS, V1_CHANNELS, strict=True))
            }
        ),
        alpha=width,
    )


def _mobilenet_v2(width: float, size: int):
    top1, top5 = V2_ACCURACY[width, size]
    params, channels = V2_WIDTHS[width]
    stem = f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{width}_{size}"
    return imagenet_spec(
        f"mobilenet_v2_{width}_{size}",
        "MobileNetV2",
        summary=f"MobileNet v2, width {width}, {size} px",
        size=size,
        preprocessing="tf",
        params=params,
        year=2018,
        top=_keras_file("mobilenet_v2", f"{stem}.h5"),
        no_top=_keras_file("mobilenet_v2", f"{stem}_no_top.h5"),
        top1=top1,
        top5=top5,
        source=V2_SOURCE.format(width=width, size=size),
        feature_stages=stages(
            {2 ** (i + 1): stage for i, stage in enumerate(zip(V2_LAYERS, channels, strict=True))}
        ),
        alpha=width,
    )


SPECS = (
    *(_mobilenet_v1(width, size) for width, size in V1_ACCURACY),
    *(_mobilenet_v2(width, size) for width, size in V2_ACCURACY),
    imagenet_spec(
        "mobilenet_v3_small",
        "MobileNetV3Small",
        summary="MobileNet v3 Small",
        size=224,
        preprocessing="raw",
        params=2_554_968,
        year=2019,
        top=keras_weights(
            "mobilenet_v3",
            "weights_mobilenet_v3_small_224_1.0_float.h5",
            "8768d4c2e7dee89b9d02b2d03d65d862",
        ),
        no_top=keras_weights(
            "mobilenet_v3",
            "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5",
            "d3e8ec802a04aa4fc771ee12a9a9b836",
        ),
        top1=68.1,
        top5=None,
        source=(
            "keras mobilenet_v3.py docstring table (keras-team/keras "
            "keras/src/applications/mobilenet_v3.py, "
            "https://keras.io/api/applications/mobilenet/); top-5 not published; TF-slim "
            "mobilenet/README.md lists 67.5 for Small dm=1 float"
        ),
        feature_stages=stages(
            {
                2: ("activation", 16),
                4: ("re_lu_2", 72),
                8: ("activation_1", 96),
                16: ("activation_11", 288),
                32: ("activation_17", 576),
            }
        ),
        minimalistic=False,
    ),
    imagenet_spec(
        "mobilenet_v3_small_minimalistic",
        "MobileNetV3Small",
        summary="MobileNet v3 Small minimalistic",
        size=224,
        preprocessing="raw",
        params=2_056_848,
        year=2019,
        top=keras_weights(
            "mobilenet_v3",
            "weights_mobilenet_v3_small_minimalistic_224_1.0_float.h5",
            "99cd97fb2fcdad2bf028eb838de69e37",
        ),
        no_top=keras_weights(
            "mobilenet_v3",
            "weights_mobilenet_v3_small_minimalistic_224_1.0_float_no_top_v2.h5",
            "cde8136e733e811080d9fcd8a252f7e4",
        ),
        top1=61.9,
        top5=None,
        source=(
            "keras mobilenet_v3.py docstring table (keras-team/keras "
            "keras/src/applications/mobilenet_v3.py, "
            "https://keras.io/api/applications/mobilenet/); top-5 not published; same in "
            "TF-slim mobilenet/README.md"
        ),
        feature_stages=stages(
            {
                2: ("re_lu", 16),
                4: ("re_lu_2", 72),
                8: ("re_lu_6", 96),
                16: ("re_lu_16", 288),
                32: ("re_lu_22", 576),
            }
        ),
        minimalistic=True,
    ),
    imagenet_spec(
        "mobilenet_v3_large",
        "MobileNetV3Large",
        summary="MobileNet v3 Large",
        size=224,
        preprocessing="raw",
        params=5_507_432,
        year=2019,
        top=keras_weights(
            "mobilenet_v3",
            "weights_mobilenet_v3_large_224_1.0_float.h5",
            "59e551e166be033d707958cf9e29a6a7",
        ),
        no_top=keras_weights(
            "mobilenet_v3",
            "weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5",
            "07fb09a5933dd0c8eaafa16978110389",
        ),
        top1=75.6,
        top5=None,
        source=(
            "keras mobilenet_v3.py docstring table (keras-team/keras "
            "keras/src/applications/mobilenet_v3.py, "
            "https://keras.io/api/applications/mobilenet/); top-5 not published; TF-slim "
            "mobilenet/README.md lists 75.2 for Large dm=1 float"
        ),
        feature_stages=stages(
            {
                2: ("re_lu_1", 64),
                4: ("re_lu_5", 72),
                8: ("activation_1", 240),
                16: ("activation_13", 672),
                32: ("activation_19", 960),
            }
        ),
        minimalistic=False,
    ),
    imagenet_spec(
        "mobilenet_v3_large_minimalistic",
        "MobileNetV3Large",
        summary="MobileNet v3 Large minimalistic",
        size=224,
        preprocessing="raw",
        params=3_948_688,
        year=2019,
        top=keras_weights(
            "mobilenet_v3",
            "weights_mobilenet_v3_large_minimalistic_224_1.0_float.h5",
            "675e7b876c45c57e9e63e6d90a36599c",
        ),
        no_top=keras_weights(
            "mobilenet_v3",
            "weights_mobilenet_v3_large_minimalistic_224_1.0_float_no_top_v2.h5",
            "ec5221f64a2f6d1ef965a614bdae7973",
        ),
        top1=72.3,
        top5=None,
        source=(
            "keras mobilenet_v3.py docstring table (keras-team/keras "
            "keras/src/applications/mobilenet_v3.py, "
            "https://keras.io/api/applications/mobilenet/); top-5 not published; same in "
            "TF-slim mobilenet/README.md"
        ),
        feature_stages=stages(
            {
                2: ("re_lu_2", 64),
                4: ("re_lu_6", 72),
                8: ("re_lu_12", 240),
                16: ("re_lu_24", 672),
                32: ("re_lu_30", 960),
            }
        ),
        minimalistic=True,
    ),
)
