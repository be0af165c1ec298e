"""EfficientNet (Tan & Le 2019) and EfficientNetV2 (Tan & Le 2021):
ImageNet specs over keras.applications.

The file names, URLs and hashes are the ones Keras itself uses (recorded with
`scripts/keras_weights_table.py`); top-1/top-5 are published figures, with their source.
The specs of each generation differ only in the figures tabled here; their names, file names
and stage layers follow from those.
"""

from __future__ import annotations

from string import ascii_lowercase

from applications.keras_imagenet import (
    KERAS_IO_TABLE,
    imagenet_spec,
    keras_file,
    keras_weights,
    stages,
    strided_layers,
)
from zoo.spec import ModelSpec, WeightsSpec

#: Keras keeps the EfficientNet (v1) files at the top of its older bucket, in no folder.
V1_WEIGHTS = "https://storage.googleapis.com/keras-applications/"
#: the layers that end the stages at strides 2, 4, 8, 16, 32 in every B0..B7
V1_LAYERS = (
    "block2a_expand_activation",
    "block3a_expand_activation",
    "block4a_expand_activation",
    "block6a_expand_activation",
    "top_activation",
)
#: B<i> -> (input size, parameters, top-1, top-5, channels at strides 2, 4, 8, 16, 32)
V1 = {
    0: (224, 5_330_571, 77.1, 93.3, (96, 144, 240, 672, 1280)),
    1: (240, 7_856_239, 79.1, 94.4, (96, 144, 240, 672, 1280)),
    2: (260, 9_177_569, 80.1, 94.9, (96, 144, 288, 720, 1408)),
    3: (300, 12_320_535, 81.6, 95.7, (144, 192, 288, 816, 1536)),
    4: (380, 19_466_823, 82.9, 96.4, (144, 192, 336, 960, 1792)),
    5: (456, 30_562_527, 83.6, 96.7, (144, 240, 384, 1056, 2048)),
    6: (528, 43_265_143, 84.0, 96.8, (192, 240, 432, 1200, 2304)),
    7: (600, 66_658_687, 84.3, 97.0, (192, 288, 480, 1344, 2560)),
}
#: B<i> -> md5 Keras pins for (the file with the top, the one without)
V1_MD5 = {
    0: ("902e53a9f72be733fc0bcb005b3ebbac", "50bc09e76180e00e4465e1a485ddc09d"),
    1: ("1d254153d4ab51201f1646940f018540", "74c4e6b3e1f6a1eea24c589628592432"),
    2: ("b15cce36ff4dcbd00b6dd88e7857a6ad", "111f8e2ac8aa800a7a99e3239f7bfb39"),
    3: ("ffd1fdc53d0ce67064dc6a9c7960ede0", "af6d107764bb5b1abb91932881670226"),
    4: ("18c95ad55216b8f92d7e70b3a046e2fc", "ebc24e6d6c33eaebbd558eafbeedf1ba"),
    5: ("ace28f2a6363774853a83a0b21b9421a", "38879255a25d3c92d5e44e04ae6cec6f"),
    6: ("165f6e37dce68623721b423839de8be5", "9ecce42647a20130c1f39a5d4cb75743"),
    7: ("8c03f828fec3ef71311cd463b6759d99", "cbcfe4450ddf6f3ad90b1b398090fe4a"),
}
V1_SOURCE = (
    f"{KERAS_IO_TABLE} (= EfficientNet paper Table 2, https://arxiv.org/abs/1905.11946) "
    "[{size}x{size} input]"
)

#: the layers that end the stages at strides 8, 16, 32 in every V2 model
V2_LAYERS = ("block4a_expand_activation", "block6a_expand_activation", "top_activation")
#: V2 size -> (input size, parameters, top-1, top-5, blocks of the first two stages,
#: channels at strides 2, 4, 8, 16, 32)
V2 = {
    "B0": (224, 7_200_312, 78.7, 94.3, (1, 2), (16, 32, 192, 672, 1280)),
    "B1": (240, 8_212_124, 79.8, 95.0, (2, 3), (16, 32, 192, 672, 1280)),
    "B2": (260, 10_178_374, 80.5, 95.1, (2, 3), (16, 32, 224, 720, 1408)),
    "B3": (300, 14_467_622, 82.0, 95.8, (2, 3), (16, 40, 224, 816, 1536)),
    "S": (384, 21_612_360, 83.9, 96.7, (2, 4), (24, 48, 256, 960, 1280)),
    "M": (480, 54_431_388, 85.3, 97.4, (3, 5), (24, 48, 320, 1056, 1280)),
    "L": (480, 119_027_848, 85.7, 97.5, (4, 7), (32, 64, 384, 1344, 1280)),
}
#: V2 size -> md5 Keras pins for (the file with the top, the one without)
V2_MD5 = {
    "B0": ("21ecbf6da12460d5c40bb2f29ceb2188", "893217f2bb855e2983157299931e43ff"),
    "B1": ("069f0534ff22adf035c89e2d9547a9dc", "0e80663031ca32d657f9caa404b6ec37"),
    "B2": ("424e49f28180edbde1e94797771950a7", "1dfe2e7a5d45b6632553a8961ea609eb"),
    "B3": ("1f1fc43bd98a6e4fd8fdfd551e02c7a0", "f6abf7b5849ac99a89b50dd3fd532856"),
    "S": ("e1d88a8495beba45748fedd0cecbe016", "af0682fb74e8c54910f2d4393339c070"),
    "M": ("a3bf6aa3276309f4fc6a34aa114c95cd", "1b8dc055df72dde80d614482840fe342"),
    "L": ("27e6d408b53c7ebc868fefa357689935", "b0b66b5c863aef5b46e8608fe1711615"),
}
V2_SOURCE = (
    f"{KERAS_IO_TABLE}; ImageNet-1k-trained weights (EfficientNetV2 paper "
    "https://arxiv.org/abs/2104.00298) [{size}x{size} input]"
)


def _v1_file(name: str, md5: str) -> WeightsSpec:
    return keras_file(name, f"{V1_WEIGHTS}{name}", md5)


def _efficientnet(i: int) -> ModelSpec:
    size, params, top1, top5, channels = V1[i]
    top_md5, no_top_md5 = V1_MD5[i]
    return imagenet_spec(
        f"efficientnet_b{i}",
        f"EfficientNetB{i}",
        summary=f"EfficientNet-B{i}",
        size=size,
        preprocessing="raw",
        params=params,
        year=2019,
        top=_v1_file(f"efficientnetb{i}.h5", top_md5),
        no_top=_v1_file(f"efficientnetb{i}_notop.h5", no_top_md5),
        top1=top1,
        top5=top5,
        source=V1_SOURCE.format(size=size),
        feature_stages=stages(strided_layers(V1_LAYERS, channels)),
    )


def _v2_stage_end(stage: int, blocks: int) -> str:
    """The last layer of the first or second V2 stage: its last block's residual add; a stage of
    one block (B0's first: it changes the channels, so adds nothing) ends in its projection."""
    if blocks == 1:
        return f"block{stage}a_project_activation"
    return f"block{stage}{ascii_lowercase[blocks - 1]}_add"


def _efficientnet_v2(variant: str) -> ModelSpec:
    size, params, top1, top5, first_blocks, channels = V2[variant]
    top_md5, no_top_md5 = V2_MD5[variant]
    stem = f"efficientnetv2-{variant.lower()}"
    layers = (
        *(_v2_stage_end(stage, blocks) for stage, blocks in enumerate(first_blocks, 1)),
        *V2_LAYERS,
    )
    return imagenet_spec(
        f"efficientnet_v2_{variant.lower()}",
        f"EfficientNetV2{variant}",
        summary=f"EfficientNetV2-{variant}",
        size=size,
        preprocessing="raw",
        params=params,
        year=2021,
        top=keras_weights("efficientnet_v2", f"{stem}.h5", top_md5),
        no_top=keras_weights("efficientnet_v2", f"{stem}_notop.h5", no_top_md5),
        top1=top1,
        top5=top5,
        source=V2_SOURCE.format(size=size),
        feature_stages=stages(strided_layers(layers, channels)),
    )


SPECS = (
    *(_efficientnet(i) for i in V1),
    *(_efficientnet_v2(variant) for variant in V2),
)
