"""Clear errors for width mismatches between backbones and heads."""
from torch import Tensor, nn

from mmseed.errors import ConfigError

__all__ = ['check_linear_input', 'output_width']


def check_linear_input(head: nn.Module, feature: Tensor, name: str) -> None:
    """Check that ``head``'s first Linear layer accepts ``feature``'s width.

    A backbone whose output width differs from the head's ``in_channels``
    otherwise fails deep inside torch ("mat1 and mat2 shapes cannot be
    multiplied").

    Args:
        head (nn.Module): A projection head (neck) with Linear layers.
        feature (Tensor): The backbone feature it will receive, (N, C, ...).
        name (str): The head's config key, for the message.

    Raises:
        ConfigError: The widths differ (a ``ValueError``).
    """
    first = next((m for m in head.modules() if isinstance(m, nn.Linear)), None)
    if first is not None and first.in_features != feature.shape[1]:
        raise ConfigError(
            f'the backbone outputs {feature.shape[1]}-channel features but '
            f'{name} expects {first.in_features}: set {name}.in_channels='
            f'{feature.shape[1]}')


def output_width(head: nn.Module) -> int:
    """The output width of a projection head: its last Linear layer's.

    Args:
        head (nn.Module): A neck or head with Linear layers.

    Returns:
        int: ``out_features`` of the last ``nn.Linear`` in ``head``.

    Raises:
        ConfigError: ``head`` has no Linear layer.
    """
    linears = [m for m in head.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ConfigError(f'{type(head).__name__} has no Linear layer to '
                          'read its output width from; state the width '
                          'in the config')
    return linears[-1].out_features
