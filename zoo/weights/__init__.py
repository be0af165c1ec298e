"""Where a model's weights come from and whether to trust them. No TensorFlow import.

- ``cache``: Keras' cache folder, the trust manifest, hash checks on every use, safe downloads.
- ``download``: HTTP downloads that resume, retry and report progress.
- ``bundle``: ``zoo cache``: list and verify the cache, bundles for air-gapped machines.
- ``shipped``: the weights inside the package and what training recorded about them.
- ``resolve``: which file a model loads (``weights=``), verified before anything is loaded.
- ``verify``: ``zoo.verify``: every weights file against its hash, loading nothing.

Reading a user's own model file safely is ``zoo.user_files``'s (the registry needs it too).
"""
