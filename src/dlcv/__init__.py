"""Helpers for the Deep Learning for Computer Vision course.

Import what you need by name, for example ``from dlcv.data import mnist_tensors``.
Importing the package changes nothing: no seeding, no device choice, no downloads.
"""

__version__ = "0.1.0"
