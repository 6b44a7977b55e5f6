"""Tests of the daemon: state, bus, control protocol, sd_notify, service, pipeline."""
