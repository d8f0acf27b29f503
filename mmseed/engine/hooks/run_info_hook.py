"""Record the training run in ``<work_dir>/run_info.json``."""
from mmengine.hooks import Hook

from mmseed.registry import HOOKS
from mmseed.utils.run_info import write_run_info

__all__ = ['RunInfoHook']


@HOOKS.register_module()
class RunInfoHook(Hook):
    """Write the training run's record when training starts.

    ``before_train`` comes after ``Runner.train`` has resumed: a resumed run
    continues with the seed stored in the checkpoint, not the one drawn when
    the runner was built, and this records the former.
    ``tools/train.py`` registers it with the command line; a config may name
    it too (``custom_hooks=[dict(type='RunInfoHook', command='...')]``).

    Args:
        command (str): The command line, see
            :func:`mmseed.utils.run_info.tool_command`.
    """

    priority = 'VERY_HIGH'

    def __init__(self, command: str) -> None:
        self.command = command

    def before_train(self, runner) -> None:
        write_run_info(runner, self.command, 'train')
