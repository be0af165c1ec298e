"""ResNet v1 (He et al. 2015) and v2 (pre-activation, He et al. 2016):
ImageNet specs over keras.applications.

The file names, URLs and hashes are the ones Keras itself uses (recorded with
`scripts/keras_weights_table.py`); top-1/top-5 are published figures, with their source.
"""
from applications.keras_imagenet import imagenet_spec, keras_file, stages

SPECS = (
    imagenet_spec(
        'resnet50', 'ResNet50', summary='ResNet-50, the ILSVRC 2015 family',
        size=224, preprocessing='caffe', params=25_636_712, year=2015,
        top=keras_file(
            'resnet50_weights_tf_dim_ordering_tf_kernels.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/resnet/resnet50_weights_tf_dim_ordering_tf_kernels.h5',
            '2cb95161c43110f7111970584f804107',
        ),
        no_top=keras_file(
            'resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5',
            '4d473c1dd8becc155b73f8504c6f6626',
        ),
        top1=74.9, top5=92.1,
        source=(
            'keras.io Keras Applications table (keras-team/keras-io '
            'templates/api/applications/index.md, https://keras.io/api/applications/)'
        ),
        feature_stages=stages({
            2: ('conv1_relu', 64),
            4: ('conv2_block3_out', 256),
            8: ('conv3_block4_out', 512),
            16: ('conv4_block6_out', 1024),
            32: ('conv5_block3_out', 2048),
        }),
    ),
    imagenet_spec(
        'resnet101', 'ResNet101', summary='ResNet-101',
        size=224, preprocessing='caffe', params=44_707_176, year=2015,
        top=keras_file(
            'resnet101_weights_tf_dim_ordering_tf_kernels.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/resnet/resnet101_weights_tf_dim_ordering_tf_kernels.h5',
            'f1aeb4b969a6efcfb50fad2f0c20cfc5',
        ),
        no_top=keras_file(
            'resnet101_weights_tf_dim_ordering_tf_kernels_notop.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/resnet/resnet101_weights_tf_dim_ordering_tf_kernels_notop.h5',
            '88cf7a10940856eca736dc7b7e228a21',
        ),
        top1=76.4, top5=92.8,
        source=(
            'keras.io Keras Applications table (keras-team/keras-io '
            'templates/api/applications/index.md, https://keras.io/api/applications/)'
        ),
        feature_stages=stages({
            2: ('conv1_relu', 64),
            4: ('conv2_block3_out', 256),
            8: ('conv3_block4_out', 512),
            16: ('conv4_block23_out', 1024),
            32: ('conv5_block3_out', 2048),
        }),
    ),
    imagenet_spec(
        'resnet152', 'ResNet152', summary='ResNet-152: the 152-layer ILSVRC 2015 winner',
        size=224, preprocessing='caffe', params=60_419_944, year=2015,
        top=keras_file(
            'resnet152_weights_tf_dim_ordering_tf_kernels.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/resnet/resnet152_weights_tf_dim_ordering_tf_kernels.h5',
            '100835be76be38e30d865e96f2aaae62',
        ),
        no_top=keras_file(
            'resnet152_weights_tf_dim_ordering_tf_kernels_notop.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/resnet/resnet152_weights_tf_dim_ordering_tf_kernels_notop.h5',
            'ee4c566cf9a93f14d82f913c2dc6dd0c',
        ),
        top1=76.6, top5=93.1,
        source=(
            'keras.io Keras Applications table (keras-team/keras-io '
            'templates/api/applications/index.md, https://keras.io/api/applications/)'
        ),
        feature_stages=stages({
            2: ('conv1_relu', 64),
            4: ('conv2_block3_out', 256),
            8: ('conv3_block8_out', 512),
            16: ('conv4_block36_out', 1024),
            32: ('conv5_block3_out', 2048),
        }),
    ),
    imagenet_spec(
        'resnet50_v2', 'ResNet50V2', summary='ResNet-50 v2 (pre-activation)',
        size=224, preprocessing='tf', params=25_613_800, year=2016,
        top=keras_file(
            'resnet50v2_weights_tf_dim_ordering_tf_kernels.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/resnet/resnet50v2_weights_tf_dim_ordering_tf_kernels.h5',
            '3ef43a0b657b3be2300d5770ece849e0',
        ),
        no_top=keras_file(
            'resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/resnet/resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5',
            'fac2f116257151a9d068a22e544a4917',
        ),
        top1=76.0, top5=93.0,
        source=(
            'keras.io Keras Applications table (keras-team/keras-io '
            'templates/api/applications/index.md, https://keras.io/api/applications/)'
        ),
        feature_stages=stages({
            2: ('conv1_conv', 64),
            4: ('conv2_block3_1_relu', 64),
            8: ('conv3_block4_1_relu', 128),
            16: ('conv4_block6_1_relu', 256),
            32: ('post_relu', 2048),
        }),
    ),
    imagenet_spec(
        'resnet101_v2', 'ResNet101V2', summary='ResNet-101 v2 (pre-activation)',
        size=224, preprocessing='tf', params=44_675_560, year=2016,
        top=keras_file(
            'resnet101v2_weights_tf_dim_ordering_tf_kernels.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/resnet/resnet101v2_weights_tf_dim_ordering_tf_kernels.h5',
            '6343647c601c52e1368623803854d971',
        ),
        no_top=keras_file(
            'resnet101v2_weights_tf_dim_ordering_tf_kernels_notop.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/resnet/resnet101v2_weights_tf_dim_ordering_tf_kernels_notop.h5',
            'c0ed64b8031c3730f411d2eb4eea35b5',
        ),
        top1=77.2, top5=93.8,
        source=(
            'keras.io Keras Applications table (keras-team/keras-io '
            'templates/api/applications/index.md, https://keras.io/api/applications/)'
        ),
        feature_stages=stages({
            2: ('conv1_conv', 64),
            4: ('conv2_block3_1_relu', 64),
            8: ('conv3_block4_1_relu', 128),
            16: ('conv4_block23_1_relu', 256),
            32: ('post_relu', 2048),
        }),
    ),
    imagenet_spec(
        'resnet152_v2', 'ResNet152V2', summary='ResNet-152 v2 (pre-activation)',
        size=224, preprocessing='tf', params=60_380_648, year=2016,
        top=keras_file(
            'resnet152v2_weights_tf_dim_ordering_tf_kernels.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/resnet/resnet152v2_weights_tf_dim_ordering_tf_kernels.h5',
            'a49b44d1979771252814e80f8ec446f9',
        ),
        no_top=keras_file(
            'resnet152v2_weights_tf_dim_ordering_tf_kernels_notop.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/resnet/resnet152v2_weights_tf_dim_ordering_tf_kernels_notop.h5',
            'ed17cf2e0169df9d443503ef94b23b33',
        ),
        top1=78.0, top5=94.2,
        source=(
            'keras.io Keras Applications table (keras-team/keras-io '
            'templates/api/applications/index.md, https://keras.io/api/applications/)'
        ),
        feature_stages=stages({
            2: ('conv1_conv', 64),
            4: ('conv2_block3_1_relu', 64),
            8: ('conv3_block8_1_relu', 128),
            16: ('conv4_block36_1_relu', 256),
            32: ('post_relu', 2048),
        }),
    ),
)
