"""MobileNet v1 (Howard et al. 2017), v2 (Sandler et al. 2018), v3 (Howard et al. 2019):
ImageNet specs over keras.applications.

The file names, URLs and hashes are the ones Keras itself uses (recorded with
`scripts/keras_weights_table.py`); top-1/top-5 are published figures, with their source.
"""
from applications.keras_imagenet import imagenet_spec, keras_file, stages

SPECS = (
    imagenet_spec(
        'mobilenet_v1_0.25_128', 'MobileNet', summary='MobileNet v1, width 0.25, 128 px',
        size=128, preprocessing='tf', params=475_544, year=2017,
        top=keras_file(
            'mobilenet_2_5_128_tf.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_2_5_128_tf.h5',
            'fe295db7f78635f1403127e3ba8cdc6237f83262bdb745063a67c1d81190c7f8',
        ),
        no_top=keras_file(
            'mobilenet_2_5_128_tf_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_2_5_128_tf_no_top.h5',
            None,
        ),
        top1=41.3, top5=66.2,
        source=(
            'TF-slim mobilenet_v1.md, MobileNet_v1_0.25_128 2017_06_14 checkpoint row '
            "(the checkpoints keras' mobilenet_*_tf.h5 weights were translated from), "
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet_v1.md'
            ' (current revision lists re-trained 2018_02_22 checkpoint: 41.5/66.3)'
        ),
        feature_stages=stages({
            2: ('conv_pw_1_relu', 16),
            4: ('conv_pw_3_relu', 32),
            8: ('conv_pw_5_relu', 64),
            16: ('conv_pw_11_relu', 128),
            32: ('conv_pw_13_relu', 256),
        }),
        alpha=0.25,
    ),
    imagenet_spec(
        'mobilenet_v1_0.25_160', 'MobileNet', summary='MobileNet v1, width 0.25, 160 px',
        size=160, preprocessing='tf', params=475_544, year=2017,
        top=keras_file(
            'mobilenet_2_5_160_tf.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_2_5_160_tf.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_2_5_160_tf_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_2_5_160_tf_no_top.h5',
            None,
        ),
        top1=46.0, top5=70.7,
        source=(
            'TF-slim mobilenet_v1.md, MobileNet_v1_0.25_160 2017_06_14 checkpoint row '
            "(the checkpoints keras' mobilenet_*_tf.h5 weights were translated from), "
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet_v1.md'
            ' (current revision lists re-trained 2018_02_22 checkpoint: 45.5/70.3)'
        ),
        feature_stages=stages({
            2: ('conv_pw_1_relu', 16),
            4: ('conv_pw_3_relu', 32),
            8: ('conv_pw_5_relu', 64),
            16: ('conv_pw_11_relu', 128),
            32: ('conv_pw_13_relu', 256),
        }),
        alpha=0.25,
    ),
    imagenet_spec(
        'mobilenet_v1_0.25_192', 'MobileNet', summary='MobileNet v1, width 0.25, 192 px',
        size=192, preprocessing='tf', params=475_544, year=2017,
        top=keras_file(
            'mobilenet_2_5_192_tf.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_2_5_192_tf.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_2_5_192_tf_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_2_5_192_tf_no_top.h5',
            None,
        ),
        top1=49.0, top5=73.6,
        source=(
            'TF-slim mobilenet_v1.md, MobileNet_v1_0.25_192 2017_06_14 checkpoint row '
            "(the checkpoints keras' mobilenet_*_tf.h5 weights were translated from), "
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet_v1.md'
            ' (current revision lists re-trained 2018_02_22 checkpoint: 47.7/72.3)'
        ),
        feature_stages=stages({
            2: ('conv_pw_1_relu', 16),
            4: ('conv_pw_3_relu', 32),
            8: ('conv_pw_5_relu', 64),
            16: ('conv_pw_11_relu', 128),
            32: ('conv_pw_13_relu', 256),
        }),
        alpha=0.25,
    ),
    imagenet_spec(
        'mobilenet_v1_0.25_224', 'MobileNet', summary='MobileNet v1, width 0.25, 224 px',
        size=224, preprocessing='tf', params=475_544, year=2017,
        top=keras_file(
            'mobilenet_2_5_224_tf.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_2_5_224_tf.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_2_5_224_tf_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_2_5_224_tf_no_top.h5',
            'dbdb03ee2a22fd895301636cd328b234bb3a9952358f436d82f46b81e0d5b0bf',
        ),
        top1=50.6, top5=75.0,
        source=(
            'TF-slim mobilenet_v1.md, MobileNet_v1_0.25_224 2017_06_14 checkpoint row '
            "(the checkpoints keras' mobilenet_*_tf.h5 weights were translated from), "
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet_v1.md'
            ' (current revision lists re-trained 2018_02_22 checkpoint: 49.8/74.2)'
        ),
        feature_stages=stages({
            2: ('conv_pw_1_relu', 16),
            4: ('conv_pw_3_relu', 32),
            8: ('conv_pw_5_relu', 64),
            16: ('conv_pw_11_relu', 128),
            32: ('conv_pw_13_relu', 256),
        }),
        alpha=0.25,
    ),
    imagenet_spec(
        'mobilenet_v1_0.5_128', 'MobileNet', summary='MobileNet v1, width 0.5, 128 px',
        size=128, preprocessing='tf', params=1_342_536, year=2017,
        top=keras_file(
            'mobilenet_5_0_128_tf.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_5_0_128_tf.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_5_0_128_tf_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_5_0_128_tf_no_top.h5',
            None,
        ),
        top1=56.2, top5=79.6,
        source=(
            'TF-slim mobilenet_v1.md, MobileNet_v1_0.5_128 2017_06_14 checkpoint row (the'
            " checkpoints keras' mobilenet_*_tf.h5 weights were translated from), "
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet_v1.md'
            ' (current revision lists re-trained 2018_02_22 checkpoint: 56.3/79.4)'
        ),
        feature_stages=stages({
            2: ('conv_pw_1_relu', 32),
            4: ('conv_pw_3_relu', 64),
            8: ('conv_pw_5_relu', 128),
            16: ('conv_pw_11_relu', 256),
            32: ('conv_pw_13_relu', 512),
        }),
        alpha=0.5,
    ),
    imagenet_spec(
        'mobilenet_v1_0.5_160', 'MobileNet', summary='MobileNet v1, width 0.5, 160 px',
        size=160, preprocessing='tf', params=1_342_536, year=2017,
        top=keras_file(
            'mobilenet_5_0_160_tf.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_5_0_160_tf.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_5_0_160_tf_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_5_0_160_tf_no_top.h5',
            None,
        ),
        top1=59.9, top5=82.5,
        source=(
            'TF-slim mobilenet_v1.md, MobileNet_v1_0.5_160 2017_06_14 checkpoint row (the'
            " checkpoints keras' mobilenet_*_tf.h5 weights were translated from), "
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet_v1.md'
            ' (current revision lists re-trained 2018_02_22 checkpoint: 59.1/81.9)'
        ),
        feature_stages=stages({
            2: ('conv_pw_1_relu', 32),
            4: ('conv_pw_3_relu', 64),
            8: ('conv_pw_5_relu', 128),
            16: ('conv_pw_11_relu', 256),
            32: ('conv_pw_13_relu', 512),
        }),
        alpha=0.5,
    ),
    imagenet_spec(
        'mobilenet_v1_0.5_192', 'MobileNet', summary='MobileNet v1, width 0.5, 192 px',
        size=192, preprocessing='tf', params=1_342_536, year=2017,
        top=keras_file(
            'mobilenet_5_0_192_tf.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_5_0_192_tf.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_5_0_192_tf_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_5_0_192_tf_no_top.h5',
            None,
        ),
        top1=62.1, top5=84.0,
        source=(
            'TF-slim mobilenet_v1.md, MobileNet_v1_0.5_192 2017_06_14 checkpoint row (the'
            " checkpoints keras' mobilenet_*_tf.h5 weights were translated from), "
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet_v1.md'
            ' (current revision lists re-trained 2018_02_22 checkpoint: 61.7/83.6)'
        ),
        feature_stages=stages({
            2: ('conv_pw_1_relu', 32),
            4: ('conv_pw_3_relu', 64),
            8: ('conv_pw_5_relu', 128),
            16: ('conv_pw_11_relu', 256),
            32: ('conv_pw_13_relu', 512),
        }),
        alpha=0.5,
    ),
    imagenet_spec(
        'mobilenet_v1_0.5_224', 'MobileNet', summary='MobileNet v1, width 0.5, 224 px',
        size=224, preprocessing='tf', params=1_342_536, year=2017,
        top=keras_file(
            'mobilenet_5_0_224_tf.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_5_0_224_tf.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_5_0_224_tf_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_5_0_224_tf_no_top.h5',
            None,
        ),
        top1=64.0, top5=85.4,
        source=(
            'TF-slim mobilenet_v1.md, MobileNet_v1_0.5_224 2017_06_14 checkpoint row (the'
            " checkpoints keras' mobilenet_*_tf.h5 weights were translated from), "
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet_v1.md'
            ' (current revision lists re-trained 2018_02_22 checkpoint: 63.3/84.9)'
        ),
        feature_stages=stages({
            2: ('conv_pw_1_relu', 32),
            4: ('conv_pw_3_relu', 64),
            8: ('conv_pw_5_relu', 128),
            16: ('conv_pw_11_relu', 256),
            32: ('conv_pw_13_relu', 512),
        }),
        alpha=0.5,
    ),
    imagenet_spec(
        'mobilenet_v1_0.75_128', 'MobileNet', summary='MobileNet v1, width 0.75, 128 px',
        size=128, preprocessing='tf', params=2_601_976, year=2017,
        top=keras_file(
            'mobilenet_7_5_128_tf.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_7_5_128_tf.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_7_5_128_tf_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_7_5_128_tf_no_top.h5',
            None,
        ),
        top1=61.8, top5=83.6,
        source=(
            'TF-slim mobilenet_v1.md, MobileNet_v1_0.75_128 2017_06_14 checkpoint row '
            "(the checkpoints keras' mobilenet_*_tf.h5 weights were translated from), "
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet_v1.md'
            ' (current revision lists re-trained 2018_02_22 checkpoint: 62.1/83.9)'
        ),
        feature_stages=stages({
            2: ('conv_pw_1_relu', 48),
            4: ('conv_pw_3_relu', 96),
            8: ('conv_pw_5_relu', 192),
            16: ('conv_pw_11_relu', 384),
            32: ('conv_pw_13_relu', 768),
        }),
        alpha=0.75,
    ),
    imagenet_spec(
        'mobilenet_v1_0.75_160', 'MobileNet', summary='MobileNet v1, width 0.75, 160 px',
        size=160, preprocessing='tf', params=2_601_976, year=2017,
        top=keras_file(
            'mobilenet_7_5_160_tf.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_7_5_160_tf.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_7_5_160_tf_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_7_5_160_tf_no_top.h5',
            None,
        ),
        top1=65.2, top5=86.1,
        source=(
            'TF-slim mobilenet_v1.md, MobileNet_v1_0.75_160 2017_06_14 checkpoint row '
            "(the checkpoints keras' mobilenet_*_tf.h5 weights were translated from), "
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet_v1.md'
            ' (current revision lists re-trained 2018_02_22 checkpoint: 65.3/86.0)'
        ),
        feature_stages=stages({
            2: ('conv_pw_1_relu', 48),
            4: ('conv_pw_3_relu', 96),
            8: ('conv_pw_5_relu', 192),
            16: ('conv_pw_11_relu', 384),
            32: ('conv_pw_13_relu', 768),
        }),
        alpha=0.75,
    ),
    imagenet_spec(
        'mobilenet_v1_0.75_192', 'MobileNet', summary='MobileNet v1, width 0.75, 192 px',
        size=192, preprocessing='tf', params=2_601_976, year=2017,
        top=keras_file(
            'mobilenet_7_5_192_tf.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_7_5_192_tf.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_7_5_192_tf_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_7_5_192_tf_no_top.h5',
            None,
        ),
        top1=67.4, top5=87.3,
        source=(
            'TF-slim mobilenet_v1.md, MobileNet_v1_0.75_192 2017_06_14 checkpoint row '
            "(the checkpoints keras' mobilenet_*_tf.h5 weights were translated from), "
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet_v1.md'
            ' (current revision lists re-trained 2018_02_22 checkpoint: 67.2/87.3)'
        ),
        feature_stages=stages({
            2: ('conv_pw_1_relu', 48),
            4: ('conv_pw_3_relu', 96),
            8: ('conv_pw_5_relu', 192),
            16: ('conv_pw_11_relu', 384),
            32: ('conv_pw_13_relu', 768),
        }),
        alpha=0.75,
    ),
    imagenet_spec(
        'mobilenet_v1_0.75_224', 'MobileNet', summary='MobileNet v1, width 0.75, 224 px',
        size=224, preprocessing='tf', params=2_601_976, year=2017,
        top=keras_file(
            'mobilenet_7_5_224_tf.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_7_5_224_tf.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_7_5_224_tf_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_7_5_224_tf_no_top.h5',
            None,
        ),
        top1=68.4, top5=88.2,
        source=(
            'TF-slim mobilenet_v1.md, MobileNet_v1_0.75_224 2017_06_14 checkpoint row '
            "(the checkpoints keras' mobilenet_*_tf.h5 weights were translated from), "
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet_v1.md'
            ' (current revision lists re-trained 2018_02_22 checkpoint: 68.4/88.2)'
        ),
        feature_stages=stages({
            2: ('conv_pw_1_relu', 48),
            4: ('conv_pw_3_relu', 96),
            8: ('conv_pw_5_relu', 192),
            16: ('conv_pw_11_relu', 384),
            32: ('conv_pw_13_relu', 768),
        }),
        alpha=0.75,
    ),
    imagenet_spec(
        'mobilenet_v1_1.0_128', 'MobileNet', summary='MobileNet v1, width 1.0, 128 px',
        size=128, preprocessing='tf', params=4_253_864, year=2017,
        top=keras_file(
            'mobilenet_1_0_128_tf.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_1_0_128_tf.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_1_0_128_tf_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_1_0_128_tf_no_top.h5',
            None,
        ),
        top1=64.1, top5=85.3,
        source=(
            'TF-slim mobilenet_v1.md, MobileNet_v1_1.0_128 2017_06_14 checkpoint row (the'
            " checkpoints keras' mobilenet_*_tf.h5 weights were translated from), "
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet_v1.md'
            ' (current revision lists re-trained 2018_02_22 checkpoint: 65.2/85.8)'
        ),
        feature_stages=stages({
            2: ('conv_pw_1_relu', 64),
            4: ('conv_pw_3_relu', 128),
            8: ('conv_pw_5_relu', 256),
            16: ('conv_pw_11_relu', 512),
            32: ('conv_pw_13_relu', 1024),
        }),
        alpha=1.0,
    ),
    imagenet_spec(
        'mobilenet_v1_1.0_160', 'MobileNet', summary='MobileNet v1, width 1.0, 160 px',
        size=160, preprocessing='tf', params=4_253_864, year=2017,
        top=keras_file(
            'mobilenet_1_0_160_tf.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_1_0_160_tf.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_1_0_160_tf_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_1_0_160_tf_no_top.h5',
            None,
        ),
        top1=67.2, top5=87.5,
        source=(
            'TF-slim mobilenet_v1.md, MobileNet_v1_1.0_160 2017_06_14 checkpoint row (the'
            " checkpoints keras' mobilenet_*_tf.h5 weights were translated from), "
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet_v1.md'
            ' (current revision lists re-trained 2018_02_22 checkpoint: 68.0/87.7)'
        ),
        feature_stages=stages({
            2: ('conv_pw_1_relu', 64),
            4: ('conv_pw_3_relu', 128),
            8: ('conv_pw_5_relu', 256),
            16: ('conv_pw_11_relu', 512),
            32: ('conv_pw_13_relu', 1024),
        }),
        alpha=1.0,
    ),
    imagenet_spec(
        'mobilenet_v1_1.0_192', 'MobileNet', summary='MobileNet v1, width 1.0, 192 px',
        size=192, preprocessing='tf', params=4_253_864, year=2017,
        top=keras_file(
            'mobilenet_1_0_192_tf.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_1_0_192_tf.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_1_0_192_tf_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_1_0_192_tf_no_top.h5',
            None,
        ),
        top1=69.3, top5=88.9,
        source=(
            'TF-slim mobilenet_v1.md, MobileNet_v1_1.0_192 2017_06_14 checkpoint row (the'
            " checkpoints keras' mobilenet_*_tf.h5 weights were translated from), "
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet_v1.md'
            ' (current revision lists re-trained 2018_02_22 checkpoint: 70.0/89.2)'
        ),
        feature_stages=stages({
            2: ('conv_pw_1_relu', 64),
            4: ('conv_pw_3_relu', 128),
            8: ('conv_pw_5_relu', 256),
            16: ('conv_pw_11_relu', 512),
            32: ('conv_pw_13_relu', 1024),
        }),
        alpha=1.0,
    ),
    imagenet_spec(
        'mobilenet_v1_1.0_224', 'MobileNet', summary='MobileNet v1, width 1.0, 224 px',
        size=224, preprocessing='tf', params=4_253_864, year=2017,
        top=keras_file(
            'mobilenet_1_0_224_tf.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_1_0_224_tf.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_1_0_224_tf_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/mobilenet_1_0_224_tf_no_top.h5',
            None,
        ),
        top1=70.7, top5=89.5,
        source=(
            'TF-slim mobilenet_v1.md, MobileNet_v1_1.0_224 2017_06_14 checkpoint row (the'
            " checkpoints keras' mobilenet_*_tf.h5 weights were translated from), "
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet_v1.md'
            ' (current revision lists re-trained 2018_02_22 checkpoint: 70.9/89.9)'
        ),
        feature_stages=stages({
            2: ('conv_pw_1_relu', 64),
            4: ('conv_pw_3_relu', 128),
            8: ('conv_pw_5_relu', 256),
            16: ('conv_pw_11_relu', 512),
            32: ('conv_pw_13_relu', 1024),
        }),
        alpha=1.0,
    ),
    imagenet_spec(
        'mobilenet_v2_0.35_96', 'MobileNetV2', summary='MobileNet v2, width 0.35, 96 px',
        size=96, preprocessing='tf', params=1_691_208, year=2018,
        top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5',
            None,
        ),
        top1=45.5, top5=70.4,
        source=(
            'TF-slim mobilenet/README.md, mobilenet_v2_0.35_96 row (also in keras '
            'mobilenet_v2.py docstring), '
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet/README.md'
        ),
        feature_stages=stages({
            2: ('block_1_expand_relu', 48),
            4: ('block_3_expand_relu', 48),
            8: ('block_6_expand_relu', 96),
            16: ('block_13_expand_relu', 192),
            32: ('out_relu', 1280),
        }),
        alpha=0.35,
    ),
    imagenet_spec(
        'mobilenet_v2_0.35_128', 'MobileNetV2', summary='MobileNet v2, width 0.35, 128 px',
        size=128, preprocessing='tf', params=1_691_208, year=2018,
        top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_128.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_128.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_128_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_128_no_top.h5',
            None,
        ),
        top1=50.8, top5=75.0,
        source=(
            'TF-slim mobilenet/README.md, mobilenet_v2_0.35_128 row (also in keras '
            'mobilenet_v2.py docstring), '
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet/README.md'
        ),
        feature_stages=stages({
            2: ('block_1_expand_relu', 48),
            4: ('block_3_expand_relu', 48),
            8: ('block_6_expand_relu', 96),
            16: ('block_13_expand_relu', 192),
            32: ('out_relu', 1280),
        }),
        alpha=0.35,
    ),
    imagenet_spec(
        'mobilenet_v2_0.35_160', 'MobileNetV2', summary='MobileNet v2, width 0.35, 160 px',
        size=160, preprocessing='tf', params=1_691_208, year=2018,
        top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_160.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_160.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_160_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_160_no_top.h5',
            None,
        ),
        top1=55.7, top5=79.1,
        source=(
            'TF-slim mobilenet/README.md, mobilenet_v2_0.35_160 row (also in keras '
            'mobilenet_v2.py docstring), '
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet/README.md'
        ),
        feature_stages=stages({
            2: ('block_1_expand_relu', 48),
            4: ('block_3_expand_relu', 48),
            8: ('block_6_expand_relu', 96),
            16: ('block_13_expand_relu', 192),
            32: ('out_relu', 1280),
        }),
        alpha=0.35,
    ),
    imagenet_spec(
        'mobilenet_v2_0.35_192', 'MobileNetV2', summary='MobileNet v2, width 0.35, 192 px',
        size=192, preprocessing='tf', params=1_691_208, year=2018,
        top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_192.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_192.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_192_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_192_no_top.h5',
            None,
        ),
        top1=58.2, top5=81.2,
        source=(
            'TF-slim mobilenet/README.md, mobilenet_v2_0.35_192 row (also in keras '
            'mobilenet_v2.py docstring), '
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet/README.md'
        ),
        feature_stages=stages({
            2: ('block_1_expand_relu', 48),
            4: ('block_3_expand_relu', 48),
            8: ('block_6_expand_relu', 96),
            16: ('block_13_expand_relu', 192),
            32: ('out_relu', 1280),
        }),
        alpha=0.35,
    ),
    imagenet_spec(
        'mobilenet_v2_0.35_224', 'MobileNetV2', summary='MobileNet v2, width 0.35, 224 px',
        size=224, preprocessing='tf', params=1_691_208, year=2018,
        top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5',
            None,
        ),
        top1=60.3, top5=82.9,
        source=(
            'TF-slim mobilenet/README.md, mobilenet_v2_0.35_224 row (also in keras '
            'mobilenet_v2.py docstring), '
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet/README.md'
        ),
        feature_stages=stages({
            2: ('block_1_expand_relu', 48),
            4: ('block_3_expand_relu', 48),
            8: ('block_6_expand_relu', 96),
            16: ('block_13_expand_relu', 192),
            32: ('out_relu', 1280),
        }),
        alpha=0.35,
    ),
    imagenet_spec(
        'mobilenet_v2_0.5_96', 'MobileNetV2', summary='MobileNet v2, width 0.5, 96 px',
        size=96, preprocessing='tf', params=1_987_224, year=2018,
        top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_96.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_96.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_96_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_96_no_top.h5',
            None,
        ),
        top1=51.2, top5=75.8,
        source=(
            'TF-slim mobilenet/README.md, mobilenet_v2_0.5_96 row (also in keras '
            'mobilenet_v2.py docstring), '
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet/README.md'
        ),
        feature_stages=stages({
            2: ('block_1_expand_relu', 48),
            4: ('block_3_expand_relu', 96),
            8: ('block_6_expand_relu', 96),
            16: ('block_13_expand_relu', 288),
            32: ('out_relu', 1280),
        }),
        alpha=0.5,
    ),
    imagenet_spec(
        'mobilenet_v2_0.5_128', 'MobileNetV2', summary='MobileNet v2, width 0.5, 128 px',
        size=128, preprocessing='tf', params=1_987_224, year=2018,
        top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_128.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_128.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_128_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_128_no_top.h5',
            None,
        ),
        top1=57.7, top5=80.8,
        source=(
            'TF-slim mobilenet/README.md, mobilenet_v2_0.5_128 row (also in keras '
            'mobilenet_v2.py docstring), '
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet/README.md'
        ),
        feature_stages=stages({
            2: ('block_1_expand_relu', 48),
            4: ('block_3_expand_relu', 96),
            8: ('block_6_expand_relu', 96),
            16: ('block_13_expand_relu', 288),
            32: ('out_relu', 1280),
        }),
        alpha=0.5,
    ),
    imagenet_spec(
        'mobilenet_v2_0.5_160', 'MobileNetV2', summary='MobileNet v2, width 0.5, 160 px',
        size=160, preprocessing='tf', params=1_987_224, year=2018,
        top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_160.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_160.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_160_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_160_no_top.h5',
            None,
        ),
        top1=61.0, top5=83.2,
        source=(
            'TF-slim mobilenet/README.md, mobilenet_v2_0.5_160 row (also in keras '
            'mobilenet_v2.py docstring), '
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet/README.md'
        ),
        feature_stages=stages({
            2: ('block_1_expand_relu', 48),
            4: ('block_3_expand_relu', 96),
            8: ('block_6_expand_relu', 96),
            16: ('block_13_expand_relu', 288),
            32: ('out_relu', 1280),
        }),
        alpha=0.5,
    ),
    imagenet_spec(
        'mobilenet_v2_0.5_192', 'MobileNetV2', summary='MobileNet v2, width 0.5, 192 px',
        size=192, preprocessing='tf', params=1_987_224, year=2018,
        top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_192.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_192.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_192_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_192_no_top.h5',
            None,
        ),
        top1=63.9, top5=85.4,
        source=(
            'TF-slim mobilenet/README.md, mobilenet_v2_0.5_192 row (also in keras '
            'mobilenet_v2.py docstring), '
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet/README.md'
        ),
        feature_stages=stages({
            2: ('block_1_expand_relu', 48),
            4: ('block_3_expand_relu', 96),
            8: ('block_6_expand_relu', 96),
            16: ('block_13_expand_relu', 288),
            32: ('out_relu', 1280),
        }),
        alpha=0.5,
    ),
    imagenet_spec(
        'mobilenet_v2_0.5_224', 'MobileNetV2', summary='MobileNet v2, width 0.5, 224 px',
        size=224, preprocessing='tf', params=1_987_224, year=2018,
        top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_224.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_224.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_224_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_224_no_top.h5',
            None,
        ),
        top1=65.4, top5=86.4,
        source=(
            'TF-slim mobilenet/README.md, mobilenet_v2_0.5_224 row (also in keras '
            'mobilenet_v2.py docstring), '
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet/README.md'
        ),
        feature_stages=stages({
            2: ('block_1_expand_relu', 48),
            4: ('block_3_expand_relu', 96),
            8: ('block_6_expand_relu', 96),
            16: ('block_13_expand_relu', 288),
            32: ('out_relu', 1280),
        }),
        alpha=0.5,
    ),
    imagenet_spec(
        'mobilenet_v2_0.75_96', 'MobileNetV2', summary='MobileNet v2, width 0.75, 96 px',
        size=96, preprocessing='tf', params=2_663_064, year=2018,
        top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.75_96.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.75_96.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.75_96_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.75_96_no_top.h5',
            None,
        ),
        top1=58.8, top5=81.6,
        source=(
            'TF-slim mobilenet/README.md, mobilenet_v2_0.75_96 row (also in keras '
            'mobilenet_v2.py docstring), '
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet/README.md'
        ),
        feature_stages=stages({
            2: ('block_1_expand_relu', 96),
            4: ('block_3_expand_relu', 144),
            8: ('block_6_expand_relu', 144),
            16: ('block_13_expand_relu', 432),
            32: ('out_relu', 1280),
        }),
        alpha=0.75,
    ),
    imagenet_spec(
        'mobilenet_v2_0.75_128', 'MobileNetV2', summary='MobileNet v2, width 0.75, 128 px',
        size=128, preprocessing='tf', params=2_663_064, year=2018,
        top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.75_128.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.75_128.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.75_128_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.75_128_no_top.h5',
            None,
        ),
        top1=63.2, top5=85.3,
        source=(
            'TF-slim mobilenet/README.md, mobilenet_v2_0.75_128 row (also in keras '
            'mobilenet_v2.py docstring), '
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet/README.md'
        ),
        feature_stages=stages({
            2: ('block_1_expand_relu', 96),
            4: ('block_3_expand_relu', 144),
            8: ('block_6_expand_relu', 144),
            16: ('block_13_expand_relu', 432),
            32: ('out_relu', 1280),
        }),
        alpha=0.75,
    ),
    imagenet_spec(
        'mobilenet_v2_0.75_160', 'MobileNetV2', summary='MobileNet v2, width 0.75, 160 px',
        size=160, preprocessing='tf', params=2_663_064, year=2018,
        top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.75_160.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.75_160.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.75_160_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.75_160_no_top.h5',
            None,
        ),
        top1=66.4, top5=87.3,
        source=(
            'TF-slim mobilenet/README.md, mobilenet_v2_0.75_160 row (also in keras '
            'mobilenet_v2.py docstring), '
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet/README.md'
        ),
        feature_stages=stages({
            2: ('block_1_expand_relu', 96),
            4: ('block_3_expand_relu', 144),
            8: ('block_6_expand_relu', 144),
            16: ('block_13_expand_relu', 432),
            32: ('out_relu', 1280),
        }),
        alpha=0.75,
    ),
    imagenet_spec(
        'mobilenet_v2_0.75_192', 'MobileNetV2', summary='MobileNet v2, width 0.75, 192 px',
        size=192, preprocessing='tf', params=2_663_064, year=2018,
        top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.75_192.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.75_192.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.75_192_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.75_192_no_top.h5',
            None,
        ),
        top1=68.7, top5=88.9,
        source=(
            'TF-slim mobilenet/README.md, mobilenet_v2_0.75_192 row (also in keras '
            'mobilenet_v2.py docstring), '
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet/README.md'
        ),
        feature_stages=stages({
            2: ('block_1_expand_relu', 96),
            4: ('block_3_expand_relu', 144),
            8: ('block_6_expand_relu', 144),
            16: ('block_13_expand_relu', 432),
            32: ('out_relu', 1280),
        }),
        alpha=0.75,
    ),
    imagenet_spec(
        'mobilenet_v2_0.75_224', 'MobileNetV2', summary='MobileNet v2, width 0.75, 224 px',
        size=224, preprocessing='tf', params=2_663_064, year=2018,
        top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.75_224.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.75_224.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.75_224_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.75_224_no_top.h5',
            None,
        ),
        top1=69.8, top5=89.6,
        source=(
            'TF-slim mobilenet/README.md, mobilenet_v2_0.75_224 row (also in keras '
            'mobilenet_v2.py docstring), '
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet/README.md'
        ),
        feature_stages=stages({
            2: ('block_1_expand_relu', 96),
            4: ('block_3_expand_relu', 144),
            8: ('block_6_expand_relu', 144),
            16: ('block_13_expand_relu', 432),
            32: ('out_relu', 1280),
        }),
        alpha=0.75,
    ),
    imagenet_spec(
        'mobilenet_v2_1.0_96', 'MobileNetV2', summary='MobileNet v2, width 1.0, 96 px',
        size=96, preprocessing='tf', params=3_538_984, year=2018,
        top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_96.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_96.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_96_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_96_no_top.h5',
            None,
        ),
        top1=60.3, top5=83.2,
        source=(
            'TF-slim mobilenet/README.md, mobilenet_v2_1.0_96 row (also in keras '
            'mobilenet_v2.py docstring), '
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet/README.md'
        ),
        feature_stages=stages({
            2: ('block_1_expand_relu', 96),
            4: ('block_3_expand_relu', 144),
            8: ('block_6_expand_relu', 192),
            16: ('block_13_expand_relu', 576),
            32: ('out_relu', 1280),
        }),
        alpha=1.0,
    ),
    imagenet_spec(
        'mobilenet_v2_1.0_128', 'MobileNetV2', summary='MobileNet v2, width 1.0, 128 px',
        size=128, preprocessing='tf', params=3_538_984, year=2018,
        top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_128.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_128.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_128_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_128_no_top.h5',
            None,
        ),
        top1=65.3, top5=86.9,
        source=(
            'TF-slim mobilenet/README.md, mobilenet_v2_1.0_128 row (also in keras '
            'mobilenet_v2.py docstring), '
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet/README.md'
        ),
        feature_stages=stages({
            2: ('block_1_expand_relu', 96),
            4: ('block_3_expand_relu', 144),
            8: ('block_6_expand_relu', 192),
            16: ('block_13_expand_relu', 576),
            32: ('out_relu', 1280),
        }),
        alpha=1.0,
    ),
    imagenet_spec(
        'mobilenet_v2_1.0_160', 'MobileNetV2', summary='MobileNet v2, width 1.0, 160 px',
        size=160, preprocessing='tf', params=3_538_984, year=2018,
        top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_160.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_160.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_160_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_160_no_top.h5',
            None,
        ),
        top1=68.8, top5=89.0,
        source=(
            'TF-slim mobilenet/README.md, mobilenet_v2_1.0_160 row (also in keras '
            'mobilenet_v2.py docstring), '
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet/README.md'
        ),
        feature_stages=stages({
            2: ('block_1_expand_relu', 96),
            4: ('block_3_expand_relu', 144),
            8: ('block_6_expand_relu', 192),
            16: ('block_13_expand_relu', 576),
            32: ('out_relu', 1280),
        }),
        alpha=1.0,
    ),
    imagenet_spec(
        'mobilenet_v2_1.0_192', 'MobileNetV2', summary='MobileNet v2, width 1.0, 192 px',
        size=192, preprocessing='tf', params=3_538_984, year=2018,
        top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_192.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_192.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_192_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_192_no_top.h5',
            None,
        ),
        top1=70.7, top5=90.1,
        source=(
            'TF-slim mobilenet/README.md, mobilenet_v2_1.0_192 row (also in keras '
            'mobilenet_v2.py docstring), '
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet/README.md'
        ),
        feature_stages=stages({
            2: ('block_1_expand_relu', 96),
            4: ('block_3_expand_relu', 144),
            8: ('block_6_expand_relu', 192),
            16: ('block_13_expand_relu', 576),
            32: ('out_relu', 1280),
        }),
        alpha=1.0,
    ),
    imagenet_spec(
        'mobilenet_v2_1.0_224', 'MobileNetV2', summary='MobileNet v2, width 1.0, 224 px',
        size=224, preprocessing='tf', params=3_538_984, year=2018,
        top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5',
            None,
        ),
        top1=71.8, top5=91.0,
        source=(
            'TF-slim mobilenet/README.md, mobilenet_v2_1.0_224 row (also in keras '
            'mobilenet_v2.py docstring), '
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet/README.md'
        ),
        feature_stages=stages({
            2: ('block_1_expand_relu', 96),
            4: ('block_3_expand_relu', 144),
            8: ('block_6_expand_relu', 192),
            16: ('block_13_expand_relu', 576),
            32: ('out_relu', 1280),
        }),
        alpha=1.0,
    ),
    imagenet_spec(
        'mobilenet_v2_1.3_224', 'MobileNetV2', summary='MobileNet v2, width 1.3, 224 px',
        size=224, preprocessing='tf', params=5_431_048, year=2018,
        top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.3_224.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.3_224.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.3_224_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.3_224_no_top.h5',
            None,
        ),
        top1=74.4, top5=92.1,
        source=(
            'TF-slim mobilenet/README.md, mobilenet_v2_1.3_224 row (also in keras '
            'mobilenet_v2.py docstring), '
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet/README.md'
        ),
        feature_stages=stages({
            2: ('block_1_expand_relu', 144),
            4: ('block_3_expand_relu', 192),
            8: ('block_6_expand_relu', 240),
            16: ('block_13_expand_relu', 768),
            32: ('out_relu', 1664),
        }),
        alpha=1.3,
    ),
    imagenet_spec(
        'mobilenet_v2_1.4_224', 'MobileNetV2', summary='MobileNet v2, width 1.4, 224 px',
        size=224, preprocessing='tf', params=6_156_712, year=2018,
        top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.4_224.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.4_224.h5',
            None,
        ),
        no_top=keras_file(
            'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.4_224_no_top.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.4_224_no_top.h5',
            None,
        ),
        top1=75.0, top5=92.5,
        source=(
            'TF-slim mobilenet/README.md, mobilenet_v2_1.4_224 row (also in keras '
            'mobilenet_v2.py docstring), '
            'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet/README.md'
        ),
        feature_stages=stages({
            2: ('block_1_expand_relu', 144),
            4: ('block_3_expand_relu', 192),
            8: ('block_6_expand_relu', 288),
            16: ('block_13_expand_relu', 816),
            32: ('out_relu', 1792),
        }),
        alpha=1.4,
    ),
    imagenet_spec(
        'mobilenet_v3_small', 'MobileNetV3Small', summary='MobileNet v3 Small',
        size=224, preprocessing='raw', params=2_554_968, year=2019,
        top=keras_file(
            'weights_mobilenet_v3_small_224_1.0_float.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/weights_mobilenet_v3_small_224_1.0_float.h5',
            '8768d4c2e7dee89b9d02b2d03d65d862',
        ),
        no_top=keras_file(
            'weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5',
            'd3e8ec802a04aa4fc771ee12a9a9b836',
        ),
        top1=68.1, top5=None,
        source=(
            'keras mobilenet_v3.py docstring table (keras-team/keras '
            'keras/src/applications/mobilenet_v3.py, '
            'https://keras.io/api/applications/mobilenet/); top-5 not published; TF-slim '
            'mobilenet/README.md lists 67.5 for Small dm=1 float'
        ),
        feature_stages=stages({
            2: ('activation', 16),
            4: ('re_lu_2', 72),
            8: ('activation_1', 96),
            16: ('activation_11', 288),
            32: ('activation_17', 576),
        }),
        minimalistic=False,
    ),
    imagenet_spec(
        'mobilenet_v3_small_minimalistic', 'MobileNetV3Small', summary='MobileNet v3 Small minimalistic',
        size=224, preprocessing='raw', params=2_056_848, year=2019,
        top=keras_file(
            'weights_mobilenet_v3_small_minimalistic_224_1.0_float.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/weights_mobilenet_v3_small_minimalistic_224_1.0_float.h5',
            '99cd97fb2fcdad2bf028eb838de69e37',
        ),
        no_top=keras_file(
            'weights_mobilenet_v3_small_minimalistic_224_1.0_float_no_top_v2.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/weights_mobilenet_v3_small_minimalistic_224_1.0_float_no_top_v2.h5',
            'cde8136e733e811080d9fcd8a252f7e4',
        ),
        top1=61.9, top5=None,
        source=(
            'keras mobilenet_v3.py docstring table (keras-team/keras '
            'keras/src/applications/mobilenet_v3.py, '
            'https://keras.io/api/applications/mobilenet/); top-5 not published; same in '
            'TF-slim mobilenet/README.md'
        ),
        feature_stages=stages({
            2: ('re_lu', 16),
            4: ('re_lu_2', 72),
            8: ('re_lu_6', 96),
            16: ('re_lu_16', 288),
            32: ('re_lu_22', 576),
        }),
        minimalistic=True,
    ),
    imagenet_spec(
        'mobilenet_v3_large', 'MobileNetV3Large', summary='MobileNet v3 Large',
        size=224, preprocessing='raw', params=5_507_432, year=2019,
        top=keras_file(
            'weights_mobilenet_v3_large_224_1.0_float.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/weights_mobilenet_v3_large_224_1.0_float.h5',
            '59e551e166be033d707958cf9e29a6a7',
        ),
        no_top=keras_file(
            'weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5',
            '07fb09a5933dd0c8eaafa16978110389',
        ),
        top1=75.6, top5=None,
        source=(
            'keras mobilenet_v3.py docstring table (keras-team/keras '
            'keras/src/applications/mobilenet_v3.py, '
            'https://keras.io/api/applications/mobilenet/); top-5 not published; TF-slim '
            'mobilenet/README.md lists 75.2 for Large dm=1 float'
        ),
        feature_stages=stages({
            2: ('re_lu_1', 64),
            4: ('re_lu_5', 72),
            8: ('activation_1', 240),
            16: ('activation_13', 672),
            32: ('activation_19', 960),
        }),
        minimalistic=False,
    ),
    imagenet_spec(
        'mobilenet_v3_large_minimalistic', 'MobileNetV3Large', summary='MobileNet v3 Large minimalistic',
        size=224, preprocessing='raw', params=3_948_688, year=2019,
        top=keras_file(
            'weights_mobilenet_v3_large_minimalistic_224_1.0_float.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/weights_mobilenet_v3_large_minimalistic_224_1.0_float.h5',
            '675e7b876c45c57e9e63e6d90a36599c',
        ),
        no_top=keras_file(
            'weights_mobilenet_v3_large_minimalistic_224_1.0_float_no_top_v2.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/weights_mobilenet_v3_large_minimalistic_224_1.0_float_no_top_v2.h5',
            'ec5221f64a2f6d1ef965a614bdae7973',
        ),
        top1=72.3, top5=None,
        source=(
            'keras mobilenet_v3.py docstring table (keras-team/keras '
            'keras/src/applications/mobilenet_v3.py, '
            'https://keras.io/api/applications/mobilenet/); top-5 not published; same in '
            'TF-slim mobilenet/README.md'
        ),
        feature_stages=stages({
            2: ('re_lu_2', 64),
            4: ('re_lu_6', 72),
            8: ('re_lu_12', 240),
            16: ('re_lu_24', 672),
            32: ('re_lu_30', 960),
        }),
        minimalistic=True,
    ),
)
