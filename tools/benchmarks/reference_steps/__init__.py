"""The plain reference steps ``tools/benchmarks/throughput.py`` times.

One module per method; the file name is the ``--method`` name (``seed.py``:
``--method seed``). Adding a method is adding a module here: the tool finds
it by name and needs no edit. A module defines:

* ``TITLE`` (str): the method's name in the printed report, e.g. ``'SEED'``.
* ``MODEL_TYPES`` (tuple of str): the model types it times as the config
  gives them; ``--method`` defaults to the modules whose types include the
  config's ``model.type``.
* ``NUM_VIEWS`` (int): views per image in the synthetic batches; 0 for a
  classifier's samples (``inputs`` one image, not a list of views).
* ``TARGET`` (str): the name its target-network section gets in the report
  (e.g. ``'teacher'``, ``'key_encoder'``).
* ``NOTES`` (list of str): lines for the report's ``settings.notes``.
* ``model_config(cfg) -> ConfigDict``: the model to time, from a loaded
  config (may derive it, e.g. a baseline from a distillation config's
  student); raises :class:`mmseed.errors.ConfigError` when it cannot. Both
  paths build this config; the model checks of
  ``mmseed.utils.config_check`` run on it first.
* ``prepare(model) -> None``: called on the model mmengine's runner built,
  before training (e.g. random teacher weights instead of a checkpoint).
* ``install_sections(model, clock) -> None``: wrap the built model's methods
  in the clock's sections (``clock.wrap(owner, 'method', 'target')``):
  ``'target'`` for the target network's work, ``'queue'`` for the memory
  update. The tool itself times ``train_step`` and the data pre-processor.
* ``dataset_size(cfg) -> int`` (optional): the length of the synthetic
  training set, for a method whose state grows with it (per-image memory
  banks sized from the dataset), so that the measured peak memory is the
  real run's; without it the set is just long enough for the timed steps.
  Synthetic sample ``i`` has ``sample_idx`` i and label ``i % num_classes``.
* ``view_sizes(cfg) -> list of (H, W)`` (optional): each view's size, for
  multi-crop methods whose views differ in size; without it every view has
  the config's crop size (or ``--image-size``).
* ``install_optim_sections(optim_wrapper, clock) -> None`` (optional): the
  same for the optim wrapper the runner built (an ``OptimWrapperDict`` for
  a config with one wrapper per sub-module), e.g. one optimizer's
  ``update_params`` (its backward and step) in a section.
* ``PlainStep(model, preprocess, make_optimizer, clock, autocast)``: one
  training step in plain PyTorch on the built model's modules, called with
  an iterator over batches (a list of ``NUM_VIEWS`` uint8 tensors, each
  (N, 3, H, W)) and returning the step's loss. ``preprocess(images)`` gives
  the normalised device tensor; ``make_optimizer(params)`` the config's
  optimizer over the given parameters, and ``make_optimizer(params, name)``
  that of entry ``optim_wrapper.<name>`` (a config with one optimizer per
  sub-module, e.g. ``MultiOptimWrapperConstructor``'s);
  ``clock.section(name)`` times ``'data'``, ``'target'``, ``'student'`` and
  ``'queue'`` (a section entered several times in a step adds up);
  ``autocast()`` is the forward's precision context.
"""
import importlib
import pkgutil
from types import ModuleType
from typing import List

from mmseed.errors import ConfigError

__all__ = ['INTERFACE', 'available_methods', 'load_method']

INTERFACE = ('TITLE', 'MODEL_TYPES', 'NUM_VIEWS', 'TARGET', 'NOTES',
             'model_config', 'prepare', 'install_sections', 'PlainStep')


def available_methods() -> List[str]:
    """The ``--method`` names: the modules in this package, sorted."""
    return sorted(info.name for info in pkgutil.iter_modules(__path__)
                  if not info.name.startswith('_'))


def load_method(name: str) -> ModuleType:
    """Import the reference-step module of method ``name``.

    Raises:
        ConfigError: No such module, or it lacks part of the interface.
    """
    if name not in available_methods():
        raise ConfigError(f'no reference step for method {name!r}; '
                          f'known: {", ".join(available_methods())}')
    module = importlib.import_module(f'{__name__}.{name}')
    missing = [key for key in INTERFACE if not hasattr(module, key)]
    if missing:
        raise ConfigError(f'{module.__file__} lacks {", ".join(missing)} '
                          f'of the reference-step interface')
    return module
