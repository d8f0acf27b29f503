# ResNet-18 with the small-image stem used for 32-px CIFAR (3x3 stride-1 first
# convolution, no max-pool; He et al., 2016, and the SimCLR/MoCo CIFAR
# recipes); pooled feature width 512.
resnet18_cifar = dict(
    type='ResNet_CIFAR', depth=18, norm_cfg=dict(type='BN'),
    zero_init_residual=False)
resnet18_cifar_channels = 512
