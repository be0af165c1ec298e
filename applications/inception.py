"""Inception v3 (Szegedy et al. 2015) and Inception-ResNet v2 (Szegedy et al. 2016):
ImageNet specs over keras.applications.

The file names, URLs and hashes are the ones Keras itself uses (recorded with
`scripts/keras_weights_table.py`); top-1/top-5 are published figures, with their source.
"""

from applications.keras_imagenet import KERAS_IO_TABLE, imagenet_spec, keras_weights, stages

SPECS = (
    imagenet_spec(
        "inception_v3",
        "InceptionV3",
        summary="Inception v3",
        size=299,
        preprocessing="tf",
        params=23_851_784,
        year=2015,
        top=keras_weights(
            "inception_v3",
            "inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
            "9a0d58056eeedaa3f26cb7ebd46da564",
        ),
        no_top=keras_weights(
            "inception_v3",
            "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
            "bcbd6486424b2319ff4ef7d526e38f63",
        ),
        top1=77.9,
        top5=93.7,
        source=f"{KERAS_IO_TABLE} [299x299 input]",
        feature_stages=stages(
            {
                2: ("activation_2", 64),
                4: ("activation_4", 192),
                8: ("activation_28", 96),
                16: ("activation_74", 192),
                32: ("mixed10", 2048),
            }
        ),
    ),
    imagenet_spec(
        "inception_resnet_v2",
        "InceptionResNetV2",
        summary="Inception-ResNet v2",
        size=299,
        preprocessing="tf",
        params=55_873_736,
        year=2016,
        top=keras_weights(
            "inception_resnet_v2",
            "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5",
            "e693bd0210a403b3192acc6073ad2e96",
        ),
        no_top=keras_weights(
            "inception_resnet_v2",
            "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
            "d19885ff4a710c122648d3b5c3b684e4",
        ),
        top1=80.3,
        top5=95.3,
        source=f"{KERAS_IO_TABLE} [299x299 input]",
        feature_stages=stages(
            {
                2: ("activation_2", 64),
                4: ("activation_4", 192),
                8: ("activation_74", 256),
                16: ("activation_161", 288),
                32: ("conv_7b_ac", 1536),
            }
        ),
    ),
)
