"""DenseNet (Huang et al. 2016):
ImageNet specs over keras.applications.

The file names, URLs and hashes are the ones Keras itself uses (recorded with
`scripts/keras_weights_table.py`); top-1/top-5 are published figures, with their source.
The three specs differ only in the figures tabled here; they share their stage layers.
"""

from __future__ import annotations

from applications.keras_imagenet import (
    KERAS_IO_TABLE,
    imagenet_spec,
    keras_weights,
    stages,
    strided_layers,
)
from zoo.spec import ModelSpec

#: stage layers at strides 2, 4, 8, 16, 32 (stem and transitions, then the final ReLU)
LAYERS = ("conv1_relu", "pool2_conv", "pool3_conv", "pool4_conv", "relu")
#: channels at strides 2, 4, 8: the same at every depth (whose first two dense blocks,
#: of 6 and 12 layers, are alike)
FIRST_CHANNELS = (64, 128, 256)
#: depth -> (parameters, top-1, top-5, channels at strides 16 and 32)
DENSENETS = {
    121: (8_062_504, 75.0, 92.3, (512, 1024)),
    169: (14_307_880, 76.2, 93.2, (640, 1664)),
    201: (20_242_984, 77.3, 93.6, (896, 1920)),
}
#: depth -> md5 Keras pins for (the file with the top, the one without)
MD5 = {
    121: ("9d60b8095a5708f2dcce2bca79d332c7", "30ee3e1110167f948a6b9946edeeb738"),
    169: ("d699b8f76981ab1b30698df4c175e90b", "b8c4d4c20dd625c148057b9ff1c1176b"),
    201: ("1ceb130c1ea1b78c3bf6114dbdfd8807", "c13680b51ded0fb44dff2d8f86ac8bb1"),
}


def _densenet(depth: int) -> ModelSpec:
    params, top1, top5, last_channels = DENSENETS[depth]
    stem = f"densenet{depth}_weights_tf_dim_ordering_tf_kernels"
    top_md5, no_top_md5 = MD5[depth]
    return imagenet_spec(
        f"densenet{depth}",
        f"DenseNet{depth}",
        summary=f"DenseNet-{depth}",
        size=224,
        preprocessing="torch",
        params=params,
        year=2016,
        top=keras_weights("densenet", f"{stem}.h5", top_md5),
        no_top=keras_weights("densenet", f"{stem}_notop.h5", no_top_md5),
        top1=top1,
        top5=top5,
        source=KERAS_IO_TABLE,
        feature_stages=stages(strided_layers(LAYERS, (*FIRST_CHANNELS, *last_channels))),
    )


SPECS = tuple(_densenet(depth) for depth in DENSENETS)
