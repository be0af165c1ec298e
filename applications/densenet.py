"""DenseNet (Huang et al. 2016):
ImageNet specs over keras.applications.

The file names, URLs and hashes are the ones Keras itself uses (recorded with
`scripts/keras_weights_table.py`); top-1/top-5 are published figures, with their source.
"""
from applications.keras_imagenet import imagenet_spec, keras_file, stages

SPECS = (
    imagenet_spec(
        'densenet121', 'DenseNet121', summary='DenseNet-121',
        size=224, preprocessing='torch', params=8_062_504, year=2016,
        top=keras_file(
            'densenet121_weights_tf_dim_ordering_tf_kernels.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/densenet/densenet121_weights_tf_dim_ordering_tf_kernels.h5',
            '9d60b8095a5708f2dcce2bca79d332c7',
        ),
        no_top=keras_file(
            'densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/densenet/densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5',
            '30ee3e1110167f948a6b9946edeeb738',
        ),
        top1=75.0, top5=92.3,
        source=(
            'keras.io Keras Applications table (keras-team/keras-io '
            'templates/api/applications/index.md, https://keras.io/api/applications/)'
        ),
        feature_stages=stages({
            2: ('conv1_relu', 64),
            4: ('pool2_conv', 128),
            8: ('pool3_conv', 256),
            16: ('pool4_conv', 512),
            32: ('relu', 1024),
        }),
    ),
    imagenet_spec(
        'densenet169', 'DenseNet169', summary='DenseNet-169',
        size=224, preprocessing='torch', params=14_307_880, year=2016,
        top=keras_file(
            'densenet169_weights_tf_dim_ordering_tf_kernels.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/densenet/densenet169_weights_tf_dim_ordering_tf_kernels.h5',
            'd699b8f76981ab1b30698df4c175e90b',
        ),
        no_top=keras_file(
            'densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/densenet/densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5',
            'b8c4d4c20dd625c148057b9ff1c1176b',
        ),
        top1=76.2, top5=93.2,
        source=(
            'keras.io Keras Applications table (keras-team/keras-io '
            'templates/api/applications/index.md, https://keras.io/api/applications/)'
        ),
        feature_stages=stages({
            2: ('conv1_relu', 64),
            4: ('pool2_conv', 128),
            8: ('pool3_conv', 256),
            16: ('pool4_conv', 640),
            32: ('relu', 1664),
        }),
    ),
    imagenet_spec(
        'densenet201', 'DenseNet201', summary='DenseNet-201',
        size=224, preprocessing='torch', params=20_242_984, year=2016,
        top=keras_file(
            'densenet201_weights_tf_dim_ordering_tf_kernels.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/densenet/densenet201_weights_tf_dim_ordering_tf_kernels.h5',
            '1ceb130c1ea1b78c3bf6114dbdfd8807',
        ),
        no_top=keras_file(
            'densenet201_weights_tf_dim_ordering_tf_kernels_notop.h5',
            'https://storage.googleapis.com/tensorflow/keras-applications/densenet/densenet201_weights_tf_dim_ordering_tf_kernels_notop.h5',
            'c13680b51ded0fb44dff2d8f86ac8bb1',
        ),
        top1=77.3, top5=93.6,
        source=(
            'keras.io Keras Applications table (keras-team/keras-io '
            'templates/api/applications/index.md, https://keras.io/api/applications/)'
        ),
        feature_stages=stages({
            2: ('conv1_relu', 64),
            4: ('pool2_conv', 128),
            8: ('pool3_conv', 256),
            16: ('pool4_conv', 896),
            32: ('relu', 1920),
        }),
    ),
)
