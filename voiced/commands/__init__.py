"""One module per ``voiced`` command, imported only when that command runs."""
