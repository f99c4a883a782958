"""Broadcasts: fans who opted in get new stories; an outbox in the SQLite state sends each exactly once."""
