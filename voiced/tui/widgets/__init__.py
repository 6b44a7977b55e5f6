"""The TUI's widgets: conversation, status bar, latency timeline, log, input, prompts."""
