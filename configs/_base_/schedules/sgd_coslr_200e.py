# SGD with cosine decay over 200 epochs: the MoCo-v2 (Chen et al., 2020) and
# SEED (Fang et al., 2021) pretraining schedule. lr 0.03 is for a total batch
# of 256; `--auto-scale-lr` rescales it for other batch sizes.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.03, momentum=0.9, weight_decay=1e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=200, by_epoch=True, begin=0, end=200)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=200)
auto_scale_lr = dict(base_batch_size=256)
