"""Errors that reject a whole delivery. Messages name the file's shape, never its values."""


class DeliveryRejected(Exception):
    """The file cannot be read as a list at all (a file-level failure)."""

    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(reason)
        self.rule = rule
        self.reason = reason
