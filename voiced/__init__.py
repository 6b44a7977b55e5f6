"""voiced: a hands-free voice assistant for the Linux desktop, on Groq."""

__version__ = "0.1.0"
