"""Every error a user can cause, with a message that says what to do.

    CodesearchError
    ├── PathError            no such path, not a directory, unreadable
    ├── IndexMissing         no index where one was asked for
    ├── IndexMismatch        index made by another format, chunker or model
    ├── IndexBusy            another process is writing the index
    ├── QueryError           empty query, bad option value
    └── ModelUnavailable     the encoder cannot be loaded (offline, not found, not an encoder)

The CLI prints the message on one line of stderr and exits non-zero.
"""

from __future__ import annotations


class CodesearchError(Exception):
    """Base class: the message is meant for the user and ends with the fix."""


class PathError(CodesearchError):
    """A path the user gave does not exist or cannot be used."""


class IndexMissing(CodesearchError):
    """No index exists at the place asked."""


class IndexMismatch(CodesearchError):
    """The index on disk was built by another format, chunker version or model."""


class IndexBusy(CodesearchError):
    """Another process holds the index's write lock."""


class QueryError(CodesearchError):
    """The query or one of its options is invalid."""


class ModelUnavailable(CodesearchError):
    """The encoder cannot be loaded; lexical search still works."""
