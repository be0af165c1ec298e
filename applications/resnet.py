"""ResNet v1 (He et al. 2015) and v2 (pre-activation, He et al. 2016):
ImageNet specs over keras.applications.

The file names, URLs and hashes are the ones Keras itself uses (recorded with
`scripts/keras_weights_table.py`); top-1/top-5 are published figures, with their source.
The six specs differ only in the figures tabled here; their stage layers follow from the
blocks of each stage.
"""

from __future__ import annotations

from applications.keras_imagenet import KERAS_IO_TABLE, imagenet_spec, keras_weights, stages
from zoo.spec import ModelSpec

#: depth -> blocks of stages conv2..conv5 (strides 4..32)
BLOCKS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}
#: depth -> (v1 summary, parameters, top-1, top-5)
V1 = {
    50: ("ResNet-50, the ILSVRC 2015 family", 25_636_712, 74.9, 92.1),
    101: ("ResNet-101", 44_707_176, 76.4, 92.8),
    152: ("ResNet-152: the 152-layer ILSVRC 2015 winner", 60_419_944, 76.6, 93.1),
}
#: depth -> (parameters, top-1, top-5) of v2
V2 = {
    50: (25_613_800, 76.0, 93.0),
    101: (44_675_560, 77.2, 93.8),
    152: (60_380_648, 78.0, 94.2),
}
#: spec name -> md5 Keras pins for (the file with the top, the one without)
MD5 = {
    "resnet50": ("2cb95161c43110f7111970584f804107", "4d473c1dd8becc155b73f8504c6f6626"),
    "resnet101": ("f1aeb4b969a6efcfb50fad2f0c20cfc5", "88cf7a10940856eca736dc7b7e228a21"),
    "resnet152": ("100835be76be38e30d865e96f2aaae62", "ee4c566cf9a93f14d82f913c2dc6dd0c"),
    "resnet50_v2": ("3ef43a0b657b3be2300d5770ece849e0", "fac2f116257151a9d068a22e544a4917"),
    "resnet101_v2": ("6343647c601c52e1368623803854d971", "c0ed64b8031c3730f411d2eb4eea35b5"),
    "resnet152_v2": ("a49b44d1979771252814e80f8ec446f9", "ed17cf2e0169df9d443503ef94b23b33"),
}


def _v1_layers(blocks: tuple[int, ...]) -> dict[int, tuple[str, int]]:
    """Each stage ends in its last block's output (256 channels at stride 4, doubling)."""
    return {
        2: ("conv1_relu", 64),
        **{4 * 2**i: (f"conv{i + 2}_block{last}_out", 256 * 2**i) for i, last in enumerate(blocks)},
    }


def _v2_layers(blocks: tuple[int, ...]) -> dict[int, tuple[str, int]]:
    """v2 strides in the last block of a stage, so the last layer before it is that block's
    first ReLU (64 channels at stride 4, doubling); the last stage ends in ``post_relu``."""
    return {
        2: ("conv1_conv", 64),
        **{
            4 * 2**i: (f"conv{i + 2}_block{last}_1_relu", 64 * 2**i)
            for i, last in enumerate(blocks[:3])
        },
        32: ("post_relu", 2048),
    }


def _resnet(depth: int, v2: bool) -> ModelSpec:
    """ResNet-``depth``: v1, or with ``v2`` the pre-activation one."""
    if v2:
        params, top1, top5 = V2[depth]
        summary = f"ResNet-{depth} v2 (pre-activation)"
    else:
        summary, params, top1, top5 = V1[depth]
    name = f"resnet{depth}_v2" if v2 else f"resnet{depth}"
    version = "v2" if v2 else ""
    stem = f"resnet{depth}{version}_weights_tf_dim_ordering_tf_kernels"
    top_md5, no_top_md5 = MD5[name]
    return imagenet_spec(
        name,
        f"ResNet{depth}V2" if v2 else f"ResNet{depth}",
        summary=summary,
        size=224,
        preprocessing="tf" if v2 else "caffe",
        params=params,
        year=2016 if v2 else 2015,
        top=keras_weights("resnet", f"{stem}.h5", top_md5),
        no_top=keras_weights("resnet", f"{stem}_notop.h5", no_top_md5),
        top1=top1,
        top5=top5,
        source=KERAS_IO_TABLE,
        feature_stages=stages((_v2_layers if v2 else _v1_layers)(BLOCKS[depth])),
    )


SPECS = (
    *(_resnet(depth, v2=False) for depth in V1),
    *(_resnet(depth, v2=True) for depth in V2),
)
