"""pixdex benchmarks: each module compares pixdex with its named peers in one run."""
