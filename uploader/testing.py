"""Helpers for the tests of code that uses the uploader: an in-memory queue."""

from uploader.queue.sqlite import InMemoryQueue

__all__ = ["InMemoryQueue"]
