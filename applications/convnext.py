"""ConvNeXt (Liu et al. 2022):
ImageNet specs over keras.applications.

The file names, URLs and hashes are the ones Keras itself uses (recorded with
`scripts/keras_weights_table.py`); top-1/top-5 are published figures, with their source.
The five specs differ only in the figures tabled here; their names, stage layers and
citations follow from those.
"""

from __future__ import annotations

from applications.keras_imagenet import imagenet_spec, keras_weights, stages
from zoo.spec import ModelSpec

#: size -> (parameters, blocks of the third stage (the others have 3), channels of the first
#: stage (doubling at each of the next three))
SIZES = {
    "Tiny": (28_589_128, 9, 96),
    "Small": (50_223_688, 27, 96),
    "Base": (88_591_464, 27, 128),
    "Large": (197_767_336, 27, 192),
    "XLarge": (350_196_968, 27, 256),
}
#: size -> (top-1, top-5, the README's checkpoint that keras ships, top-1 measured in Keras)
RESULTS = {
    "Tiny": (82.1, None, "convnext_tiny_1k_224_ema", 81.312),
    "Small": (83.1, None, "convnext_small_1k_224_ema", 82.392),
    "Base": (85.8, 97.87, "convnext_base_22k_1k_224", 85.364),
    "Large": (86.6, None, "convnext_large_22k_1k_224", 86.36),
    "XLarge": (87.0, None, "convnext_xlarge_22k_1k_224_ema", 86.732),
}
#: size -> where its top-5 comes from (the README table gives top-1 only)
TOP5_SOURCES = {
    "Base": "README evaluation example output (Acc@1 85.820 Acc@5 97.868)",
}
SOURCE = (
    "facebookresearch/ConvNeXt README results table, "
    "https://github.com/facebookresearch/ConvNeXt#results-and-pre-trained-models, "
    "{training} ConvNeXt-{short} 224 ({checkpoint}, the checkpoint keras ships); {top5}"
    "checkpoint mapping per https://github.com/sayakpaul/keras-convnext-conversion "
    "convert_all.py; keras-converted measured {measured}"
)
#: size -> sha256 Keras pins for (the file with the top, the one without)
SHA256 = {
    "Tiny": (
        "8ae6e78ce2933352b1ef4008e6dd2f17bc40771563877d156bc6426c7cf503ff",
        "d547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1",
    ),
    "Small": (
        "ce1277d8f1ee5a0ef0e171469089c18f5233860ceaf9b168049cb9263fd7483c",
        "6fc8009faa2f00c1c1dfce59feea9b0745eb260a7dd11bee65c8e20843da6eab",
    ),
    "Base": (
        "52cbb006d3dadd03f6e095a8ca1aca47aecdd75acb4bc74bce1f5c695d0086e6",
        "40a20c5548a5e9202f69735ecc06c990e6b7c9d2de39f0361e27baeb24cb7c45",
    ),
    "Large": (
        "070c5ed9ed289581e477741d3b34beffa920db8cf590899d6d2c67fba2a198a6",
        "96f02b6f0753d4f543261bc9d09bed650f24dd6bc02ddde3066135b63d23a1cd",
    ),
    "XLarge": (
        "c1f5ccab661354fc3a79a10fa99af82f0fbf10ec65cb894a3ae0815f17a889ee",
        "de3f8a54174130e0cecdc71583354753d557fcf1f4487331558e2a16ba0cfe05",
    ),
}


def _source(size: str) -> str:
    _, top5, checkpoint, measured = RESULTS[size]
    training = (
        "ImageNet-22K pre-trained then 1K fine-tuned"
        if "_22k_" in checkpoint
        else "ImageNet-1K-trained"
    )
    top5_source = f"top-5 from {TOP5_SOURCES[size]}; " if top5 is not None else ""
    return SOURCE.format(
        training=training,
        short="".join(filter(str.isupper, size)),
        checkpoint=checkpoint,
        top5=top5_source,
        measured=measured,
    )


def _convnext(size: str) -> ModelSpec:
    params, third_blocks, width = SIZES[size]
    top1, top5, _, _ = RESULTS[size]
    name = f"convnext_{size.lower()}"
    top_sha256, no_top_sha256 = SHA256[size]
    depths = (3, 3, third_blocks)  # blocks of the stages at strides 4, 8, 16
    return imagenet_spec(
        name,
        f"ConvNeXt{size}",
        summary=f"ConvNeXt-{size}",
        size=224,
        preprocessing="raw",
        params=params,
        year=2022,
        top=keras_weights("convnext", f"{name}.h5", top_sha256),
        no_top=keras_weights("convnext", f"{name}_notop.h5", no_top_sha256),
        top1=top1,
        top5=top5,
        source=_source(size),
        # the patchify stem downsamples by 4; the last stage ends in the final layer norm
        feature_stages=stages(
            {
                **{
                    4 * 2**i: (f"{name}_stage_{i}_block_{blocks - 1}_identity", width * 2**i)
                    for i, blocks in enumerate(depths)
                },
                32: ("layer_normalization", width * 8),
            }
        ),
    )


SPECS = tuple(_convnext(size) for size in SIZES)
