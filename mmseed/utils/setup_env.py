"""Registering every mmseed (and mmpretrain) module in one call."""
from mmengine import DefaultScope

__all__ = ['register_all_modules']


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import mmpretrain's and mmseed's modules so their registries are full.

    Args:
        init_default_scope (bool): Also make ``mmseed`` the current default
            scope, so that unscoped type names resolve in mmseed's registries
            first. Defaults to True.
    """
    import mmpretrain.utils
    mmpretrain.utils.register_all_modules(init_default_scope=False)

    import mmseed.datasets  # noqa: F401
    import mmseed.engine  # noqa: F401
    import mmseed.evaluation  # noqa: F401
    import mmseed.models  # noqa: F401
    import mmseed.visualization  # noqa: F401

    if init_default_scope and not DefaultScope.check_instance_created('mmseed'):
        DefaultScope.get_instance('mmseed', scope_name='mmseed')
