"""Aligning the generator: the tutor-behaviour training data (SFT pairs, DPO preference pairs), the rule-based
behaviour judges, and what `scripts/train_sft`, `scripts/train_dpo` and `scripts/eval_tutor_behavior` share.

The data lives in `engine/alignment/data/*.jsonl` (built by `scripts/make_alignment_data` from the sample library).
Each record stores the student's question and the textbook passages; the prompt is rendered with the tutor's own
`engine.prompts.grounded_messages` when the data is loaded, so training always sees exactly what inference sends.
"""
