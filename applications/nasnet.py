"""NASNet (Zoph et al. 2017):
ImageNet specs over keras.applications.

The file names, URLs and hashes are the ones Keras itself uses (recorded with
`scripts/keras_weights_table.py`); top-1/top-5 are published figures, with their source.
"""

from applications.keras_imagenet import (
    KERAS_IO_TABLE,
    KERAS_WEIGHTS,
    imagenet_spec,
    keras_file,
    stages,
)

SPECS = (
    imagenet_spec(
        "nasnet_mobile",
        "NASNetMobile",
        summary="NASNet-A Mobile (architecture search)",
        size=224,
        preprocessing="tf",
        params=5_326_716,
        year=2017,
        top=keras_file(
            "nasnet_mobile.h5",
            f"{KERAS_WEIGHTS}nasnet/NASNet-mobile.h5",
            "020fb642bf7360b370c678b08e0adf61",
        ),
        no_top=keras_file(
            "nasnet_mobile_no_top.h5",
            f"{KERAS_WEIGHTS}nasnet/NASNet-mobile-no-top.h5",
            "1ed92395b5b598bdda52abe5c0dbfd63",
        ),
        top1=74.4,
        top5=91.9,
        source=KERAS_IO_TABLE,
        feature_stages=stages(
            {
                2: ("cropping2d", 32),
                4: ("cropping2d_1", 44),
                8: ("cropping2d_2", 264),
                16: ("cropping2d_3", 528),
                32: ("activation_187", 1056),
            }
        ),
    ),
    imagenet_spec(
        "nasnet_large",
        "NASNetLarge",
        summary="NASNet-A Large (architecture search)",
        size=331,
        preprocessing="tf",
        params=88_949_818,
        year=2017,
        top=keras_file(
            "nasnet_large.h5",
            f"{KERAS_WEIGHTS}nasnet/NASNet-large.h5",
            "11577c9a518f0070763c2b964a382f17",
        ),
        no_top=keras_file(
            "nasnet_large_no_top.h5",
            f"{KERAS_WEIGHTS}nasnet/NASNet-large-no-top.h5",
            "d81d89dc07e6e56530c4e77faddd61b5",
        ),
        top1=82.5,
        top5=96.0,
        source=f"{KERAS_IO_TABLE} [331x331 input]",
        feature_stages=stages(
            {
                2: ("cropping2d", 96),
                4: ("cropping2d_1", 168),
                8: ("cropping2d_2", 1008),
                16: ("cropping2d_3", 2016),
                32: ("activation_259", 4032),
            }
        ),
    ),
)
