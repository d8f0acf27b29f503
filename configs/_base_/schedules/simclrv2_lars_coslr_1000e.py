# SimCLR/SimCLRv2 pretraining schedule (google-research/simclr tf2/): LARS
# with the update-norm trust ratio (mmseed.LARS trust_norm='update', eta
# 0.001, momentum 0.9), BatchNorm and biases excluded from weight decay and
# from the trust ratio; lr rising linearly from 0 over 10 epochs, then
# cosine decay to 0 over the other epochs, per iteration. lr and weight
# decay are the official CIFAR-10 command's (README: --learning_rate=1.0
# with the default linear scaling, --weight_decay=1e-4): lr 1.0 is per 256
# images, scaled at the start to the global batch (auto_scale_lr enabled:
# 2.0 at 512, as the official run).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='LARS', trust_norm='update', lr=1.0, momentum=0.9,
                   weight_decay=1e-4),
    paramwise_cfg=dict(
        custom_keys={
            'bn': dict(decay_mult=0, lars_exclude=True),
            'bias': dict(decay_mult=0, lars_exclude=True),
            'downsample.1': dict(decay_mult=0, lars_exclude=True),
        }))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=990, by_epoch=True, begin=10,
         end=1000, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1000)
auto_scale_lr = dict(base_batch_size=256, enable=True)
