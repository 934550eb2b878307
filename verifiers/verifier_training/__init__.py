"""Training the claim verifier: synthetic data, the cross-encoder fine-tune and the calibrated combiner."""

# Both are part of the cache key. Bump TRAINING_CODE_VERSION when the features or the combiner change, and
# CROSS_ENCODER_VERSION as well when the training pairs or the fine-tune change: a new checkpoint then reuses the
# cross-encoder of an older one trained on the same data with the same CROSS_ENCODER_VERSION (16 minutes saved).
TRAINING_CODE_VERSION = "cv-2.0"
CROSS_ENCODER_VERSION = "ce-2.0"
# checkpoints written before CROSS_ENCODER_VERSION existed, by their training code version
LEGACY_CROSS_ENCODER_VERSIONS = {"cv-1.1": "ce-1.1"}
