"""In-memory Hamming-space search over packed uint64 codes: LinearScan, VPTree, MultiIndexHash."""
