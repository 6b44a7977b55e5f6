"""The Textual terminal interface, one client of the daemon; the only package using Textual."""
