"""Audio in and out: frames, the microphone, files standing in for it, devices and encoding."""

from voiced.audio.frames import FRAME_SAMPLES, SAMPLE_RATE, Frame, Framer, FrameSource

__all__ = ["FRAME_SAMPLES", "SAMPLE_RATE", "Frame", "FrameSource", "Framer"]
