"""Hostile input: a server, a file or a client that misbehaves on purpose."""
