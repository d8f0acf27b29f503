# SimCLRv2 fine-tuning on a label subset (google-research/simclr README, 1%
# of ImageNet: --train_mode=finetune --optimizer=lars --learning_rate=0.005
# --learning_rate_scaling=sqrt --weight_decay=0 --train_epochs=60
# --warmup_epochs=0): LARS (update-norm trust ratio) lr 0.005 x sqrt(batch),
# momentum 0.9, no weight decay, cosine to 0 without warm-up, 60 epochs (the
# paper fine-tunes 30 epochs on 10%). BatchNorm, biases and the classifier
# ("head_supervised") are excluded from the trust ratio. The lr here is for
# batch 256 (0.005 x 16); for batch B set optimizer.lr=0.005*sqrt(B)
# (mmengine's auto_scale_lr scales linearly, so there is none here).
lr_scaling = 'sqrt'  # read by no code: the rule, for the reader
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='LARS', trust_norm='update', lr=0.08, momentum=0.9,
                   weight_decay=0.),
    paramwise_cfg=dict(
        custom_keys={
            'bn': dict(decay_mult=0, lars_exclude=True),
            'bias': dict(decay_mult=0, lars_exclude=True),
            'downsample.1': dict(decay_mult=0, lars_exclude=True),
            'head': dict(decay_mult=0, lars_exclude=True),
        }))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=60, by_epoch=True, begin=0, end=60,
         convert_to_iter_based=True)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=60, val_interval=10)
val_cfg = dict()
test_cfg = dict()
