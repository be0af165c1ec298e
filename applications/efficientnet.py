"""EfficientNet (Tan & Le 2019) and EfficientNetV2 (Tan & Le 2021):
ImageNet specs over keras.applications.

The file names, URLs and hashes are the ones Keras itself uses (recorded with
`scripts/keras_weights_table.py`); top-1/top-5 are published figures, with their source.
"""
from applications.keras_imagenet import imagenet_spec, keras_file, stages

SPECS = (
    imagenet_spec(
        'efficientnet_b0', 'EfficientNetB0', summary='EfficientNet-B0',
        size=224, preprocessing='raw', params=5_330_571, year=2019,
        top=keras_file(
            'efficientnetb0.h5',
            'https://storage.googleapis.com/keras-applications/efficientnetb0.h5',
            '902e53a9f72be733fc0bcb005b3ebbac',
        ),
        no_top=keras_file(
            'efficientnetb0_notop.h5',
            'https://storage.googleapis.com/keras-applications/efficientnetb0_notop.h5',
            '50bc09e76180e00e4465e1a485ddc09d',
        ),
        top1=77.1, top5=93.3,
        source=(
            'keras.io Keras Applications table (keras-team/keras-io '
            'templates/api/applications/index.md, https://keras.io/api/applications/) (= '
            'EfficientNet paper Table 2, https://arxiv.org/abs/1905.11946) [224x224 '
            'input]'
        ),
        feature_stages=stages({
            2: ('block2a_expand_activation', 96),
            4: ('block3a_expand_activation', 144),
            8: ('block4a_expand_activation', 240),
            16: ('block6a_expand_activation', 672),
            32: ('top_activation', 1280),
        }),
    ),
    imagenet_spec(
        'efficientnet_b1', 'EfficientNetB1', summary='EfficientNet-B1',
        size=240, preprocessing='raw', params=7_856_239, year=2019,
        top=keras_file(
            'efficientnetb1.h5',
            'https://storage.googleapis.com/keras-applications/efficientnetb1.h5',
            '1d254153d4ab51201f1646940f018540',
        ),
        no_top=keras_file(
            'efficientnetb1_notop.h5',
            'https://storage.googleapis.com/keras-applications/efficientnetb1_notop.h5',
            '74c4e6b3e1f6a1eea24c589628592432',
        ),
        top1=79.1, top5=94.4,
        source=(
            'keras.io Keras Applications table (keras-team/keras-io '
            'templates/api/applications/index.md, https://keras.io/api/applications/) (= '
            'EfficientNet paper Table 2, https://arxiv.org/abs/1905.11946) [240x240 '
            'input]'
        ),
        feature_stages=stages({
            2: ('block2a_expand_activation', 96),
            4: ('block3a_expand_activation', 144),
            8: ('block4a_expand_activation', 240),
            16: ('block6a_expand_activation', 672),
            32: ('top_activation', 1280),
        }),
    ),
    imagenet_spec(
        'efficientnet_b2', 'EfficientNetB2', summary='EfficientNet-B2',
        size=260, preprocessing='raw', params=9_177_569, year=2019,
        top=keras_file(
            'efficientnetb2.h5',
            'https://storage.googleapis.com/keras-applications/efficientnetb2.h5',
            'b15cce36ff4dcbd00b6dd88e7857a6ad',
        ),
        no_top=keras_file(
            'efficientnetb2_notop.h5',
            'https://storage.googleapis.com/keras-applications/efficientnetb2_notop.h5',
            '111f8e2ac8aa800a7a99e3239f7bfb39',
        ),
        top1=80.1, top5=94.9,
        source=(
            'keras.io Keras Applications table (keras-team/keras-io '
            'templates/api/applications/index.md, https://keras.io/api/applications/) (= '
            'EfficientNet paper Table 2, https://arxiv.org/abs/1905.11946) [260x260 '
            'input]'
        ),
        feature_stages=stages({
            2: ('block2a_expand_activation', 96),
            4: ('block3a_expand_activation', 144),
            8: ('block4a_expand_activation', 288),
            16: ('block6a_expand_activation', 720),
            32: ('top_activation', 1408),
        }),
    ),
    imagenet_spec(
        'efficientnet_b3', 'EfficientNetB3', summary='EfficientNet-B3',
        size=300, preprocessing='raw', params=12_320_535, year=2019,
        top=keras_file(
            'efficientnetb3.h5',
            'https://storage.googleapis.com/keras-applications/efficientnetb3.h5',
            'ffd1fdc53d0ce67064dc6a9c7960ede0',
        ),
        no_top=keras_file(
            'efficientnetb3_notop.h5',
            'https://storage.googleapis.com/keras-applications/efficientnetb3_notop.h5',
            'af6d107764bb5b1abb91932881670226',
        ),
        top1=81.6, top5=95.7,
        source=(
            'keras.io Keras Applications table (keras-team/keras-io '
            'templates/api/applications/index.md, https://keras.io/api/applications/) (= '
            'EfficientNet paper Table 2, https://arxiv.org/abs/1905.11946) [300x300 '
            'input]'
        ),
        feature_stages=stages({
            2: ('block2a_expand_activation', 144),
            4: ('block3a_expand_activation', 192),
            8: ('block4a_expand_activation', 288),
            16: ('block6a_expand_activation', 816),
            32: ('top_activation', 1536),
        }),
    ),
    imagenet_spec(
        'efficientnet_b4', 'EfficientNetB4', summary='EfficientNet-B4',
        size=380, preprocessing='raw', params=19_466_823, year=2019,
        top=keras_file(
            'efficientnetb4.h5',
            'https://storage.googleapis.com/keras-applications/efficientnetb4.h5',
            '18c95ad55216b8f92d7e70b3a046e2fc',
        ),
        no_top=keras_file(
            'efficientnetb4_notop.h5',
            'https://storage.googleapis.com/keras-applications/efficientnetb4_notop.h5',
            'ebc24e6d6c33eaebbd558eafbeedf1ba',
        ),
        top1=82.9, top5=96.4,
        source=(
            'keras.io Keras Applications table (keras-team/keras-io '
            'templates/api/applications/index.md, https://keras.io/api/applications/) (= '
            'EfficientNet paper Table 2, https://arxiv.org/abs/1905.11946) [380x380 '
            'input]'
        ),
        feature_stages=stages({
            2: ('block2a_expand_activation', 144),
            4: ('block3a_expand_activation', 192),
            8: ('block4a_expand_activation', 336),
            16: ('block6a_expand_activation', 960),
            32: ('top_activation', 1792),
        }),
    ),
    imagenet_spec(
        'efficientnet_b5', 'EfficientNetB5', summary='EfficientNet-B5',
        size=456, preprocessing='raw', params=30_562_527, year=2019,
        top=keras_file(
            'efficientnetb5.h5',
            'https://storage.googleapis.com/keras-applications/efficientnetb5.h5',
            'ace28f2a6363774853a83a0b21b9421a',
        ),
        no_top=keras_file(
            'efficientnetb5_notop.h5',
            'https://storage.googleapis.com/keras-applications/efficientnetb5_notop.h5',
            '38879255a25d3c92d5e44e04ae6cec6f',
        ),
        top1=83.6, top5=96.7,
        source=(
            'keras.io Keras Applications table (keras-team/keras-io '
            'templates/api/applications/index.md, https://keras.io/api/applications/) (= '
            'EfficientNet paper Table 2, https://arxiv.org/abs/1905.11946) [456x456 '
            'input]'
        ),
        feature_stages=stages({
            2: ('block2a_expand_activation', 144),
            4: ('block3a_expand_activation', 240),
            8: ('block4a_expand_activation', 384),
            16: ('block6a_expand_activation', 1056),
            32: ('top_activation', 2048),
        }),
    ),
    imagenet_spec(
        'efficientnet_b6', 'EfficientNetB6', summary='EfficientNet-B6',
        size=528, preprocessing='raw', params=43_265_143, year=2019,
        top=keras_file(
            'efficientnetb6.h5',
            'https://storage.googleapis.com/keras-applications/efficientnetb6.h5',
            '165f6e37dce68623721b423839de8be5',
        ),
        no_top=keras_file(
            'efficientnetb6_notop.h5',
            'https://storage.googleapis.com/keras-applications/efficientnetb6_notop.h5',
            '9ecce42647a20130c1f39a5d4cb75743',
        ),
        top1=84.0, top5=96.8,
        source=(
            'keras.io Keras Applications table (keras-team/keras-io '
            'templates/api/applications/index.md, https://keras.io/api/applications/) (= '
            'EfficientNet paper Table 2, https://arxiv.org/abs/1905.11946) [528x528 '
            'input]'
        ),
        feature_stages=stages({
            2: ('block2a_expand_activation', 192),
            4: ('block3a_expand_activation', 240),
            8: ('block4a_expand_activation', 432),
            16: ('block6a_expand_activation', 1200),
            32: ('top_activation', 2304),
        }),
    ),
    imagenet_spec(
        'efficientnet_b7', 'EfficientNetB7', summary='EfficientNet-B7',
        size=600, preprocessing='raw', params=66_658_687, year=2019,
        top=keras_file(
            'efficientnetb7.h5',
            'https://storage.googleapis.com/keras-applications/efficientnetb7.h5',
            '8c03f828fec3ef71311cd463b6759d99',
        ),
        no_top=keras_file(
            'efficientnetb7_notop.h5',
            'https://storage.googleapis.com/keras-applications/efficientnetb7_notop.h5',
            'cbcfe4450ddf6f3ad90b1b398090fe4a',
        ),
        top1=84.3, top5=97.0,
        source=(
            'keras.io Keras Applications table (keras-team/keras-io '
            'templates/api/applications/index.md, https://keras.io/api/applications/) (= '
            'EfficientNet paper Table 2, https://arxiv.org/abs/1905.11946) [600x600 '
            'input]'
        ),
        feature_stages=stages({
            2: ('block2a_expand_activation', 192),
            4: ('block3a_expand_activation', 288),
            8: ('block4a_expand_activation', 480),
            16: ('block6a_expand_activation', 1344),
            32: ('top_activation', 2560),
        }),
    ),
    imagenet_spec(
        'efficientnet_v2_b0', 'EfficientNetV2B0', summary='EfficientNetV2-B0',
        size=224, preprocessing='raw', params=7_200_312, year=2021,
        top=keras_file(
            'efficientnetv2-b0.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/efficientnetv2-b0.h5',
            '21ecbf6da12460d5c40bb2f29ceb2188',
        ),
        no_top=keras_file(
            'efficientnetv2-b0_notop.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/efficientnetv2-b0_notop.h5',
            '893217f2bb855e2983157299931e43ff',
        ),
        top1=78.7, top5=94.3,
        source=(
            'keras.io Keras Applications table (keras-team/keras-io '
            'templates/api/applications/index.md, https://keras.io/api/applications/); '
            'ImageNet-1k-trained weights (EfficientNetV2 paper '
            'https://arxiv.org/abs/2104.00298) [224x224 input]'
        ),
        feature_stages=stages({
            2: ('block1a_project_activation', 16),
            4: ('block2b_add', 32),
            8: ('block4a_expand_activation', 192),
            16: ('block6a_expand_activation', 672),
            32: ('top_activation', 1280),
        }),
    ),
    imagenet_spec(
        'efficientnet_v2_b1', 'EfficientNetV2B1', summary='EfficientNetV2-B1',
        size=240, preprocessing='raw', params=8_212_124, year=2021,
        top=keras_file(
            'efficientnetv2-b1.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/efficientnetv2-b1.h5',
            '069f0534ff22adf035c89e2d9547a9dc',
        ),
        no_top=keras_file(
            'efficientnetv2-b1_notop.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/efficientnetv2-b1_notop.h5',
            '0e80663031ca32d657f9caa404b6ec37',
        ),
        top1=79.8, top5=95.0,
        source=(
            'keras.io Keras Applications table (keras-team/keras-io '
            'templates/api/applications/index.md, https://keras.io/api/applications/); '
            'ImageNet-1k-trained weights (EfficientNetV2 paper '
            'https://arxiv.org/abs/2104.00298) [240x240 input]'
        ),
        feature_stages=stages({
            2: ('block1b_add', 16),
            4: ('block2c_add', 32),
            8: ('block4a_expand_activation', 192),
            16: ('block6a_expand_activation', 672),
            32: ('top_activation', 1280),
        }),
    ),
    imagenet_spec(
        'efficientnet_v2_b2', 'EfficientNetV2B2', summary='EfficientNetV2-B2',
        size=260, preprocessing='raw', params=10_178_374, year=2021,
        top=keras_file(
            'efficientnetv2-b2.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/efficientnetv2-b2.h5',
            '424e49f28180edbde1e94797771950a7',
        ),
        no_top=keras_file(
            'efficientnetv2-b2_notop.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/efficientnetv2-b2_notop.h5',
            '1dfe2e7a5d45b6632553a8961ea609eb',
        ),
        top1=80.5, top5=95.1,
        source=(
            'keras.io Keras Applications table (keras-team/keras-io '
            'templates/api/applications/index.md, https://keras.io/api/applications/); '
            'ImageNet-1k-trained weights (EfficientNetV2 paper '
            'https://arxiv.org/abs/2104.00298) [260x260 input]'
        ),
        feature_stages=stages({
            2: ('block1b_add', 16),
            4: ('block2c_add', 32),
            8: ('block4a_expand_activation', 224),
            16: ('block6a_expand_activation', 720),
            32: ('top_activation', 1408),
        }),
    ),
    imagenet_spec(
        'efficientnet_v2_b3', 'EfficientNetV2B3', summary='EfficientNetV2-B3',
        size=300, preprocessing='raw', params=14_467_622, year=2021,
        top=keras_file(
            'efficientnetv2-b3.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/efficientnetv2-b3.h5',
            '1f1fc43bd98a6e4fd8fdfd551e02c7a0',
        ),
        no_top=keras_file(
            'efficientnetv2-b3_notop.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/efficientnetv2-b3_notop.h5',
            'f6abf7b5849ac99a89b50dd3fd532856',
        ),
        top1=82.0, top5=95.8,
        source=(
            'keras.io Keras Applications table (keras-team/keras-io '
            'templates/api/applications/index.md, https://keras.io/api/applications/); '
            'ImageNet-1k-trained weights (EfficientNetV2 paper '
            'https://arxiv.org/abs/2104.00298) [300x300 input]'
        ),
        feature_stages=stages({
            2: ('block1b_add', 16),
            4: ('block2c_add', 40),
            8: ('block4a_expand_activation', 224),
            16: ('block6a_expand_activation', 816),
            32: ('top_activation', 1536),
        }),
    ),
    imagenet_spec(
        'efficientnet_v2_s', 'EfficientNetV2S', summary='EfficientNetV2-S',
        size=384, preprocessing='raw', params=21_612_360, year=2021,
        top=keras_file(
            'efficientnetv2-s.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/efficientnetv2-s.h5',
            'e1d88a8495beba45748fedd0cecbe016',
        ),
        no_top=keras_file(
            'efficientnetv2-s_notop.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/efficientnetv2-s_notop.h5',
            'af0682fb74e8c54910f2d4393339c070',
        ),
        top1=83.9, top5=96.7,
        source=(
            'keras.io Keras Applications table (keras-team/keras-io '
            'templates/api/applications/index.md, https://keras.io/api/applications/); '
            'ImageNet-1k-trained weights (EfficientNetV2 paper '
            'https://arxiv.org/abs/2104.00298) [384x384 input]'
        ),
        feature_stages=stages({
            2: ('block1b_add', 24),
            4: ('block2d_add', 48),
            8: ('block4a_expand_activation', 256),
            16: ('block6a_expand_activation', 960),
            32: ('top_activation', 1280),
        }),
    ),
    imagenet_spec(
        'efficientnet_v2_m', 'EfficientNetV2M', summary='EfficientNetV2-M',
        size=480, preprocessing='raw', params=54_431_388, year=2021,
        top=keras_file(
            'efficientnetv2-m.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/efficientnetv2-m.h5',
            'a3bf6aa3276309f4fc6a34aa114c95cd',
        ),
        no_top=keras_file(
            'efficientnetv2-m_notop.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/efficientnetv2-m_notop.h5',
            '1b8dc055df72dde80d614482840fe342',
        ),
        top1=85.3, top5=97.4,
        source=(
            'keras.io Keras Applications table (keras-team/keras-io '
            'templates/api/applications/index.md, https://keras.io/api/applications/); '
            'ImageNet-1k-trained weights (EfficientNetV2 paper '
            'https://arxiv.org/abs/2104.00298) [480x480 input]'
        ),
        feature_stages=stages({
            2: ('block1c_add', 24),
            4: ('block2e_add', 48),
            8: ('block4a_expand_activation', 320),
            16: ('block6a_expand_activation', 1056),
            32: ('top_activation', 1280),
        }),
    ),
    imagenet_spec(
        'efficientnet_v2_l', 'EfficientNetV2L', summary='EfficientNetV2-L',
        size=480, preprocessing='raw', params=119_027_848, year=2021,
        top=keras_file(
            'efficientnetv2-l.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/efficientnetv2-l.h5',
            '27e6d408b53c7ebc868fefa357689935',
        ),
        no_top=keras_file(
            'efficientnetv2-l_notop.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/efficientnetv2-l_notop.h5',
            'b0b66b5c863aef5b46e8608fe1711615',
        ),
        top1=85.7, top5=97.5,
        source=(
            'keras.io Keras Applications table (keras-team/keras-io '
            'templates/api/applications/index.md, https://keras.io/api/applications/); '
            'ImageNet-1k-trained weights (EfficientNetV2 paper '
            'https://arxiv.org/abs/2104.00298) [480x480 input]'
        ),
        feature_stages=stages({
            2: ('block1d_add', 32),
            4: ('block2g_add', 64),
            8: ('block4a_expand_activation', 384),
            16: ('block6a_expand_activation', 1344),
            32: ('top_activation', 1280),
        }),
    ),
)
