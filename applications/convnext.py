"""ConvNeXt (Liu et al. 2022):
ImageNet specs over keras.applications.

The file names, URLs and hashes are the ones Keras itself uses (recorded with
`scripts/keras_weights_table.py`); top-1/top-5 are published figures, with their source.
"""
from applications.keras_imagenet import imagenet_spec, keras_file, stages

SPECS = (
    imagenet_spec(
        'convnext_tiny', 'ConvNeXtTiny', summary='ConvNeXt-Tiny',
        size=224, preprocessing='raw', params=28_589_128, year=2022,
        top=keras_file(
            'convnext_tiny.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/convnext/convnext_tiny.h5',
            '8ae6e78ce2933352b1ef4008e6dd2f17bc40771563877d156bc6426c7cf503ff',
        ),
        no_top=keras_file(
            'convnext_tiny_notop.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/convnext/convnext_tiny_notop.h5',
            'd547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1',
        ),
        top1=82.1, top5=None,
        source=(
            'facebookresearch/ConvNeXt README results table, '
            'https://github.com/facebookresearch/ConvNeXt#results-and-pre-trained-models,'
            ' ImageNet-1K-trained ConvNeXt-T 224 (convnext_tiny_1k_224_ema, the '
            'checkpoint keras ships); checkpoint mapping per '
            'https://github.com/sayakpaul/keras-convnext-conversion convert_all.py; '
            'keras-converted measured 81.312'
        ),
        feature_stages=stages({
            4: ('convnext_tiny_stage_0_block_2_identity', 96),
            8: ('convnext_tiny_stage_1_block_2_identity', 192),
            16: ('convnext_tiny_stage_2_block_8_identity', 384),
            32: ('layer_normalization', 768),
        }),
    ),
    imagenet_spec(
        'convnext_small', 'ConvNeXtSmall', summary='ConvNeXt-Small',
        size=224, preprocessing='raw', params=50_223_688, year=2022,
        top=keras_file(
            'convnext_small.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/convnext/convnext_small.h5',
            'ce1277d8f1ee5a0ef0e171469089c18f5233860ceaf9b168049cb9263fd7483c',
        ),
        no_top=keras_file(
            'convnext_small_notop.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/convnext/convnext_small_notop.h5',
            '6fc8009faa2f00c1c1dfce59feea9b0745eb260a7dd11bee65c8e20843da6eab',
        ),
        top1=83.1, top5=None,
        source=(
            'facebookresearch/ConvNeXt README results table, '
            'https://github.com/facebookresearch/ConvNeXt#results-and-pre-trained-models,'
            ' ImageNet-1K-trained ConvNeXt-S 224 (convnext_small_1k_224_ema, the '
            'checkpoint keras ships); checkpoint mapping per '
            'https://github.com/sayakpaul/keras-convnext-conversion convert_all.py; '
            'keras-converted measured 82.392'
        ),
        feature_stages=stages({
            4: ('convnext_small_stage_0_block_2_identity', 96),
            8: ('convnext_small_stage_1_block_2_identity', 192),
            16: ('convnext_small_stage_2_block_26_identity', 384),
            32: ('layer_normalization', 768),
        }),
    ),
    imagenet_spec(
        'convnext_base', 'ConvNeXtBase', summary='ConvNeXt-Base',
        size=224, preprocessing='raw', params=88_591_464, year=2022,
        top=keras_file(
            'convnext_base.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/convnext/convnext_base.h5',
            '52cbb006d3dadd03f6e095a8ca1aca47aecdd75acb4bc74bce1f5c695d0086e6',
        ),
        no_top=keras_file(
            'convnext_base_notop.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/convnext/convnext_base_notop.h5',
            '40a20c5548a5e9202f69735ecc06c990e6b7c9d2de39f0361e27baeb24cb7c45',
        ),
        top1=85.8, top5=97.87,
        source=(
            'facebookresearch/ConvNeXt README results table, '
            'https://github.com/facebookresearch/ConvNeXt#results-and-pre-trained-models,'
            ' ImageNet-22K pre-trained then 1K fine-tuned ConvNeXt-B 224 '
            '(convnext_base_22k_1k_224, the checkpoint keras ships); top-5 from README '
            'evaluation example output (Acc@1 85.820 Acc@5 97.868); checkpoint mapping '
            'per https://github.com/sayakpaul/keras-convnext-conversion convert_all.py; '
            'keras-converted measured 85.364'
        ),
        feature_stages=stages({
            4: ('convnext_base_stage_0_block_2_identity', 128),
            8: ('convnext_base_stage_1_block_2_identity', 256),
            16: ('convnext_base_stage_2_block_26_identity', 512),
            32: ('layer_normalization', 1024),
        }),
    ),
    imagenet_spec(
        'convnext_large', 'ConvNeXtLarge', summary='ConvNeXt-Large',
        size=224, preprocessing='raw', params=197_767_336, year=2022,
        top=keras_file(
            'convnext_large.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/convnext/convnext_large.h5',
            '070c5ed9ed289581e477741d3b34beffa920db8cf590899d6d2c67fba2a198a6',
        ),
        no_top=keras_file(
            'convnext_large_notop.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/convnext/convnext_large_notop.h5',
            '96f02b6f0753d4f543261bc9d09bed650f24dd6bc02ddde3066135b63d23a1cd',
        ),
        top1=86.6, top5=None,
        source=(
            'facebookresearch/ConvNeXt README results table, '
            'https://github.com/facebookresearch/ConvNeXt#results-and-pre-trained-models,'
            ' ImageNet-22K pre-trained then 1K fine-tuned ConvNeXt-L 224 '
            '(convnext_large_22k_1k_224, the checkpoint keras ships); checkpoint mapping '
            'per https://github.com/sayakpaul/keras-convnext-conversion convert_all.py; '
            'keras-converted measured 86.36'
        ),
        feature_stages=stages({
            4: ('convnext_large_stage_0_block_2_identity', 192),
            8: ('convnext_large_stage_1_block_2_identity', 384),
            16: ('convnext_large_stage_2_block_26_identity', 768),
            32: ('layer_normalization', 1536),
        }),
    ),
    imagenet_spec(
        'convnext_xlarge', 'ConvNeXtXLarge', summary='ConvNeXt-XLarge',
        size=224, preprocessing='raw', params=350_196_968, year=2022,
        top=keras_file(
            'convnext_xlarge.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/convnext/convnext_xlarge.h5',
            'c1f5ccab661354fc3a79a10fa99af82f0fbf10ec65cb894a3ae0815f17a889ee',
        ),
        no_top=keras_file(
            'convnext_xlarge_notop.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/convnext/convnext_xlarge_notop.h5',
            'de3f8a54174130e0cecdc71583354753d557fcf1f4487331558e2a16ba0cfe05',
        ),
        top1=87.0, top5=None,
        source=(
            'facebookresearch/ConvNeXt README results table, '
            'https://github.com/facebookresearch/ConvNeXt#results-and-pre-trained-models,'
            ' ImageNet-22K pre-trained then 1K fine-tuned ConvNeXt-XL 224 '
            '(convnext_xlarge_22k_1k_224_ema, the checkpoint keras ships); checkpoint '
            'mapping per https://github.com/sayakpaul/keras-convnext-conversion '
            'convert_all.py; keras-converted measured 86.732'
        ),
        feature_stages=stages({
            4: ('convnext_xlarge_stage_0_block_2_identity', 256),
            8: ('convnext_xlarge_stage_1_block_2_identity', 512),
            16: ('convnext_xlarge_stage_2_block_26_identity', 1024),
            32: ('layer_normalization', 2048),
        }),
    ),
)
