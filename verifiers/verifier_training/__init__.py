"""Training the claim verifier: synthetic data, the cross-encoder fine-tune and the calibrated combiner."""

TRAINING_CODE_VERSION = "cv-1.1"  # bump when data generation or training changes: it is part of the cache key
