# ResNet-152 (He et al., 2016) at 224 px; pooled feature width 2048.
resnet152 = dict(
    type='ResNet', depth=152, norm_cfg=dict(type='BN'),
    zero_init_residual=False)
resnet152_channels = 2048
