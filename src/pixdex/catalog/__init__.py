"""The persistent catalog: files, their hashes, and the search index over them."""
