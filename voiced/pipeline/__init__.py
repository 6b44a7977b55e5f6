"""The turn pipeline: from the microphone's frames to the spoken reply (see the walk below)."""
