# ResNet-101 (He et al., 2016) at 224 px; pooled feature width 2048.
resnet101 = dict(
    type='ResNet', depth=101, norm_cfg=dict(type='BN'),
    zero_init_residual=False)
resnet101_channels = 2048
