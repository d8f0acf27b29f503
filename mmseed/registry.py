"""mmseed's registries: children of mmpretrain's, with scope ``mmseed``.

A config with ``default_scope = 'mmseed'`` can name every mmseed module and, by
fallback to the parent registry, every mmpretrain module (ResNet, MobileNetV3,
MoCo, ...). Modules of other installed OpenMMLab packages are reached by their
scoped name, e.g. ``type='mmselfsup.MoCoV2Neck'``.

Each registry imports mmpretrain's modules before mmseed's when it is first
queried, so a lookup that falls back to mmpretrain finds its modules registered.
"""
from mmengine.registry import Registry
from mmpretrain import registry as mmpretrain_registry

__all__ = [
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'LOG_PROCESSORS',
    'OPTIMIZERS', 'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS',
    'PARAM_SCHEDULERS', 'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS',
    'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS', 'BATCH_AUGMENTS', 'TASK_UTILS',
    'METRICS', 'EVALUATORS', 'VISUALIZERS', 'VISBACKENDS'
]


def _child(name: str, package: str) -> Registry:
    """Build the mmseed child of mmpretrain's registry ``name``.

    Args:
        name (str): Attribute name of the registry in ``mmpretrain.registry``.
        package (str): Subpackage (of both mmpretrain and mmseed) whose import
            registers the modules.

    Returns:
        Registry: A registry with scope ``mmseed``.
    """
    parent = getattr(mmpretrain_registry, name)
    return Registry(
        parent.name,
        parent=parent,
        scope='mmseed',
        locations=[f'mmpretrain.{package}', f'mmseed.{package}'])


RUNNERS = _child('RUNNERS', 'engine')
RUNNER_CONSTRUCTORS = _child('RUNNER_CONSTRUCTORS', 'engine')
LOOPS = _child('LOOPS', 'engine')
HOOKS = _child('HOOKS', 'engine')
LOG_PROCESSORS = _child('LOG_PROCESSORS', 'engine')
OPTIMIZERS = _child('OPTIMIZERS', 'engine')
OPTIM_WRAPPERS = _child('OPTIM_WRAPPERS', 'engine')
OPTIM_WRAPPER_CONSTRUCTORS = _child('OPTIM_WRAPPER_CONSTRUCTORS', 'engine')
PARAM_SCHEDULERS = _child('PARAM_SCHEDULERS', 'engine')

DATASETS = _child('DATASETS', 'datasets')
DATA_SAMPLERS = _child('DATA_SAMPLERS', 'datasets')
TRANSFORMS = _child('TRANSFORMS', 'datasets')

MODELS = _child('MODELS', 'models')
MODEL_WRAPPERS = _child('MODEL_WRAPPERS', 'models')
WEIGHT_INITIALIZERS = _child('WEIGHT_INITIALIZERS', 'models')
BATCH_AUGMENTS = _child('BATCH_AUGMENTS', 'models')
TASK_UTILS = _child('TASK_UTILS', 'models')

METRICS = _child('METRICS', 'evaluation')
EVALUATORS = _child('EVALUATORS', 'evaluation')

VISUALIZERS = _child('VISUALIZERS', 'visualization')
VISBACKENDS = _child('VISBACKENDS', 'visualization')
