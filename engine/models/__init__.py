"""Generator loading and backends: checkpoints (validated, converted, cached), the local transformers generator, the
OpenAI-compatible server backend. Imports only engine.core."""
