# Linear probing of MAE (He et al., CVPR 2022, appendix A.2 and Table 9), for
# backbones whose feature scale differs from a ResNet's (MobileNetV3,
# EfficientNet): the classifier sees the features through a BatchNorm without
# affine parameters (mmpretrain's ClsBatchNormNeck; a re-parameterised linear
# layer that calibrates the feature magnitude, so the recipe needs no per-
# backbone lr search), trained with LARS, base lr 0.1 x batch/256, momentum
# 0.9, no weight decay, 10 warm-up epochs then cosine decay to 0 over 90
# epochs. As in MAE, biases get no LARS adaptation. mmpretrain's MAE linear
# config (mae/benchmarks/vit-base-p16_8xb2048-linear-coslr-90e_in1k.py) is the
# same schedule at batch 16384.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='LARS', lr=0.1, momentum=0.9, weight_decay=0.),
    paramwise_cfg=dict(custom_keys={'bias': dict(lars_exclude=True)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=80, eta_min=0., by_epoch=True,
         begin=10, end=90, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=90, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=256)
