"""Every error a user can cause, with a message that says what to do.

    CodesearchError
    ├── PathError            no such path, not a directory, unreadable
    ├── IndexMissing         no index where one was asked for
    ├── IndexMismatch        index made by another format, chunker or model
    ├── IndexDamaged         the index's database is not SQLite, or is damaged
    ├── IndexUnwritable      the index cannot be written: a full disk, a read-only file or folder
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


class IndexDamaged(CodesearchError):
    """The index's database cannot be read: not an SQLite file, or a damaged one (a copy made
    mid-write, a disk that lost pages)."""


def is_damage(error: BaseException) -> bool:
    """Whether an SQLite error says the database file is not one or is damaged (not that it is
    busy, read-only or full, which a retry or the user's fix of the disk mends)."""
    import sqlite3

    if not isinstance(error, sqlite3.DatabaseError):
        return False
    # SQLITE_CORRUPT_VTAB too: FTS5's damaged pages
    return _sqlite_says(error, ("SQLITE_NOTADB", "SQLITE_CORRUPT"),
                        ("file is not a database", "database disk image is malformed"))


def damaged(where: str, error: BaseException) -> IndexDamaged:
    """The error that tells the user an index is damaged, and how to start it over."""
    return IndexDamaged(f"the index {where} is damaged ({error}); run `codesearch index --rebuild` to build it "
                        "again (its cached vectors are lost with it)")


class IndexUnwritable(CodesearchError):
    """The index cannot be written where it is; it keeps its last completed state."""


_UNWRITABLE = ("database or disk is full", "attempt to write a readonly database", "disk I/O error",
               "unable to open database file")


def is_unwritable(error: BaseException) -> bool:
    """Whether an error says the index cannot be written where it is: a full disk, a read-only
    file or filesystem, failing I/O, a folder where no file can be made."""
    import errno
    import sqlite3

    if isinstance(error, OSError):  # a full disk or quota, a read-only filesystem
        return error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS)
    if not isinstance(error, sqlite3.OperationalError):
        return False
    return _sqlite_says(error, ("SQLITE_FULL", "SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_CANTOPEN"), _UNWRITABLE)


def _sqlite_says(error: BaseException, codes: tuple[str, ...], messages: tuple[str, ...]) -> bool:
    """Whether an SQLite error is one of `codes`, or of their extended codes
    (`SQLITE_READONLY_DBMOVED`); before Python 3.11, which names no code, one of `messages`."""
    name = getattr(error, "sqlite_errorname", None)
    return name.startswith(codes) if name is not None else str(error) in messages


def unwritable(where: str, error: BaseException) -> IndexUnwritable:
    """The error that tells the user an index cannot be written, and what to do."""
    return IndexUnwritable(f"the index {where} cannot be written ({error}); free disk space or make it writable, "
                           "or give another --index-dir (it keeps its last completed state)")


class IndexBusy(CodesearchError):
    """Another process holds the index's write lock."""


class QueryError(CodesearchError):
    """The query or one of its options is invalid."""


class ModelUnavailable(CodesearchError):
    """The encoder cannot be loaded; lexical search still works."""
