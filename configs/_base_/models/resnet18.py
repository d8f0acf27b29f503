# ResNet-18 (He et al., 2016) at 224 px; pooled feature width 512.
resnet18 = dict(
    type='ResNet', depth=18, norm_cfg=dict(type='BN'),
    zero_init_residual=False)
resnet18_channels = 512
