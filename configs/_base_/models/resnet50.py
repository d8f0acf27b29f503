# ResNet-50 (He et al., 2016) at 224 px; pooled feature width 2048.
resnet50 = dict(
    type='ResNet', depth=50, norm_cfg=dict(type='BN'),
    zero_init_residual=False)
resnet50_channels = 2048
