"""The local wake word: microWakeWord models (``models``), loaded safely (``engine``), and the
gated streaming detector the daemon feeds frames to (``detector``).

Nothing is imported here, so that ``voiced.config`` can check a ``[wake] word`` with
``voiced.config.wakemodel`` without loading numpy or the TensorFlow Lite library.
"""
