"""The `studybuddy` command: the top of the engine, calling the pipeline, the knowledge base, safety and evaluation."""

from engine.cli.main import build_parser, load_config, main

__all__ = ["build_parser", "load_config", "main"]
