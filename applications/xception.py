"""Xception (Chollet 2016):
ImageNet specs over keras.applications.

The file names, URLs and hashes are the ones Keras itself uses (recorded with
`scripts/keras_weights_table.py`); top-1/top-5 are published figures, with their source.
"""

from applications.keras_imagenet import KERAS_IO_TABLE, imagenet_spec, keras_weights, stages

SPECS = (
    imagenet_spec(
        "xception",
        "Xception",
        summary="Xception: depthwise-separable Inception",
        size=299,
        preprocessing="tf",
        params=22_910_480,
        year=2016,
        top=keras_weights(
            "xception",
            "xception_weights_tf_dim_ordering_tf_kernels.h5",
            "0a58e3b7378bc2990ea3b43d5981f1f6",
        ),
        no_top=keras_weights(
            "xception",
            "xception_weights_tf_dim_ordering_tf_kernels_notop.h5",
            "b0042744bf5b25fce3cb969f33bebb97",
        ),
        top1=79.0,
        top5=94.5,
        source=f"{KERAS_IO_TABLE} [299x299 input]",
        feature_stages=stages(
            {
                2: ("block2_sepconv2_bn", 128),
                4: ("block3_sepconv2_bn", 256),
                8: ("block4_sepconv2_bn", 728),
                16: ("block13_sepconv2_bn", 1024),
                32: ("block14_sepconv2_act", 2048),
            }
        ),
    ),
)
