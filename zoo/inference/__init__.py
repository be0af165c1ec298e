"""The two inference tasks over images, on the engine ``zoo.engines`` picks.

- ``prediction``: ``zoo.predict``: class probabilities of arrays or files, ranked top-k.
- ``features``: ``zoo.extract_features``: the features of every image of a source.
- ``feature_store``: where features go (memory, ``.npy``, a resumable HDF5 file).
- ``feature_file``: the HDF5 mechanics of a feature file (recovery after a kill, counts).
- ``feature_resume``: whether an existing feature file may take a rerun's rows.
- ``preparer``: the detached process ``zoo.engines.background`` starts.
"""
