"""What the pipeline asks of a generator backend, and the interface every backend implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from engine.models.manifest import ModelManifest

Messages = list[dict[str, str]]


@dataclass(frozen=True)
class GenerationRequest:
    messages: Messages
    n: int = 1
    temperature: float = 0.0  # 0: greedy
    max_new_tokens: int = 96


@runtime_checkable
class Generator(Protocol):
    """What the pipeline needs from a generator backend."""

    name: str
    manifest: "ModelManifest"

    def generate(self, requests: list[GenerationRequest]) -> list[list[str]]:
        """For each request, `request.n` answers (stripped text), in the order of the requests."""
        ...
