"""Training the claim verifier: synthetic data, the cross-encoder fine-tune and the calibrated combiner."""
