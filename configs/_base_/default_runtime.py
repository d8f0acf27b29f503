# Runtime shared by every mmseed config.
default_scope = 'mmseed'

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # Save every 10 epochs and keep the latest 3; `--resume auto` picks the
    # newest one in the work dir. mmseed's CheckpointHook is mmengine's made
    # crash safe: atomic writes, the oldest checkpoint removed only after the
    # new one is saved (mmseed/engine/hooks/checkpoint_hook.py).
    checkpoint=dict(type='mmseed.CheckpointHook', interval=10,
                    max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
custom_hooks = [
    # Reseed the random-number generators from (seed, epoch) at every epoch,
    # so a resumed run draws the same numbers as an uninterrupted one.
    dict(type='EpochSeedHook'),
    # Stop at the first NaN/inf loss term, naming the iteration, every loss
    # term and the lr, before it reaches the weights; mode='skip' skips such
    # steps instead.
    dict(type='NonFiniteLossHook', mode='stop'),
]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # tools/train.py switches to gloo when CUDA is not available.
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [
    dict(type='LocalVisBackend'),
    dict(type='TensorboardVisBackend'),
]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)

log_processor = dict(window_size=10)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=None, deterministic=False)
