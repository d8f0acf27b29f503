# LARS with 10 warm-up epochs then cosine decay, as SimCLR (Chen et al., 2020)
# pretrains: lr 0.3 x batch/256, momentum 0.9, wd 1e-6; biases and norm
# layers are excluded from weight decay and from LARS adaptation.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='LARS', lr=4.8, momentum=0.9, weight_decay=1e-6),
    paramwise_cfg=dict(
        custom_keys={
            'bn': dict(decay_mult=0, lars_exclude=True),
            'bias': dict(decay_mult=0, lars_exclude=True),
            'downsample.1': dict(decay_mult=0, lars_exclude=True),
        }))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,
        by_epoch=True,
        begin=0,
        end=10,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR', T_max=190, by_epoch=True, begin=10,
        end=200)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=200)
# lr 4.8 = 0.3 x 4096 / 256.
auto_scale_lr = dict(base_batch_size=4096)
