"""Edited copies of images and the measurement of which hash and distance to trust."""
