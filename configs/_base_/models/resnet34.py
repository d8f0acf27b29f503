# ResNet-34 (He et al., 2016) at 224 px; pooled feature width 512.
resnet34 = dict(
    type='ResNet', depth=34, norm_cfg=dict(type='BN'),
    zero_init_residual=False)
resnet34_channels = 512
