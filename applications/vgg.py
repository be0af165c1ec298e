"""VGG (Simonyan & Zisserman 2014):
ImageNet specs over keras.applications.

The file names, URLs and hashes are the ones Keras itself uses (recorded with
`scripts/keras_weights_table.py`); top-1/top-5 are published figures, with their source.
"""

from applications.keras_imagenet import KERAS_IO_TABLE, imagenet_spec, keras_weights, stages

SPECS = (
    imagenet_spec(
        "vgg16",
        "VGG16",
        summary="VGG-16: 13 3x3 convs + 3 dense",
        size=224,
        preprocessing="caffe",
        params=138_357_544,
        year=2014,
        top=keras_weights(
            "vgg16",
            "vgg16_weights_tf_dim_ordering_tf_kernels.h5",
            "64373286793e3c8b2b4e3219cbf3544b",
        ),
        no_top=keras_weights(
            "vgg16",
            "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
            "6d6bbae143d832006294945121d1f1fc",
        ),
        top1=71.3,
        top5=90.1,
        source=KERAS_IO_TABLE,
        feature_stages=stages(
            {
                2: ("block2_conv2", 128),
                4: ("block3_conv3", 256),
                8: ("block4_conv3", 512),
                16: ("block5_conv3", 512),
                32: ("block5_pool", 512),
            }
        ),
    ),
    imagenet_spec(
        "vgg19",
        "VGG19",
        summary="VGG-19: 16 3x3 convs + 3 dense",
        size=224,
        preprocessing="caffe",
        params=143_667_240,
        year=2014,
        top=keras_weights(
            "vgg19",
            "vgg19_weights_tf_dim_ordering_tf_kernels.h5",
            "cbe5617147190e668d6c5d5026f83318",
        ),
        no_top=keras_weights(
            "vgg19",
            "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
            "253f8cb515780f3b799900260a226db6",
        ),
        top1=71.3,
        top5=90.0,
        source=KERAS_IO_TABLE,
        feature_stages=stages(
            {
                2: ("block2_conv2", 128),
                4: ("block3_conv4", 256),
                8: ("block4_conv4", 512),
                16: ("block5_conv4", 512),
                32: ("block5_pool", 512),
            }
        ),
    ),
)
