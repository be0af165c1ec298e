"""What zoo reads: image files and labelled data.

- ``images``: robust decoding of one file, and any picture of a digit as an MNIST-like digit.
- ``sources``: folders, globs and lists resolved to files; files decoded into batches in
  threads ahead of the model.
- ``labelled``: labelled images for training (class folders, lists, arrays, a
  ``tf.data.Dataset``), unreadable files set aside, a stratified validation split.
"""
