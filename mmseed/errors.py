"""The errors mmseed reports to its users.

Each is a mistake in what the user gave (config, data, checkpoint) or a run
that cannot go on (a non-finite loss), and its message says what to fix. All
derive from :class:`MMSeedError`, which ``tools/train.py`` and
``tools/test.py`` print as one ``error:`` line (``mmseed.utils.cli``). Each
also derives from the built-in type it specialises, so ``except ValueError``
and the like keep working.

This module imports nothing from mmseed: every layer may import it.
"""

__all__ = [
    'MMSeedError', 'ConfigError', 'AnnotationFileError', 'CheckpointError',
    'CorruptImageError', 'NonFiniteLossError', 'LogError'
]


class MMSeedError(Exception):
    """Base of the errors that reach the user as one ``error:`` line."""


class ConfigError(MMSeedError, ValueError):
    """A config is wrong; the message says which key and how to fix it."""


class AnnotationFileError(ConfigError):
    """An annotation file is unreadable, malformed or names missing images.
    """


class CheckpointError(MMSeedError, RuntimeError):
    """A checkpoint file cannot be used; the message says why and what to do."""


class CorruptImageError(MMSeedError, ValueError):
    """An image file cannot be read or decoded; the message names the file."""


class NonFiniteLossError(MMSeedError, FloatingPointError):
    """A loss term was NaN or infinite; the message names the iteration, each
    loss term and the learning rate."""


class LogError(MMSeedError, ValueError):
    """A work dir has no usable logs; the message says what was expected."""
