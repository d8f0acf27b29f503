# ResNet-50 with the small-image stem for 32-px CIFAR; pooled width 2048.
resnet50_cifar = dict(
    type='ResNet_CIFAR', depth=50, norm_cfg=dict(type='BN'),
    zero_init_residual=False)
resnet50_cifar_channels = 2048
