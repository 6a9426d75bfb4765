"""Decode + hash: ``hash_image`` for one source, ``hash_files`` for a batch on every core.

Contract (filled in by the decoding work):

``hash_image(source, algorithm="dhash", hash_size=None) -> Hash``

``hash_files(paths, algorithms=("dhash",), workers=None) -> Iterator[FileHashes]``
    Streams one ``FileHashes`` per path (path, hashes by algorithm name, width, height, format,
    byte size, content digest, error message or None); never aborts the batch.
"""
