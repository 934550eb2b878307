"""Errors a user can hit: each carries what went wrong and what to do about it."""


class StudyBuddyError(Exception):
    def __init__(self, problem: str, fix: str = ""):
        super().__init__(problem)
        self.problem = problem
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.problem} {self.fix}".strip()


class MissingModelError(StudyBuddyError):
    """A model package or model folder is not installed."""
