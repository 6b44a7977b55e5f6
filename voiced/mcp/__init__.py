"""MCP: voiced as a client of MCP tool servers, and as an MCP server for other programs.

``names`` maps server and tool names to names Groq accepts, ``adapter`` turns a listed tool
into a voiced :class:`~voiced.converse.tools.registry.Tool`, ``connection`` is the only module
of the client side that imports the ``mcp`` SDK (it costs about a second, so it is imported
in a worker thread once a server is configured), ``manager`` keeps each server running, with
restarts and backoff, and offers their tools; ``server`` is ``voiced mcp``.
"""
