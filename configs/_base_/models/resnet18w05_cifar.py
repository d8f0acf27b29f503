# ResNet-18 at half width (32-64-128-256 channels) with the CIFAR stem: a
# small CIFAR-10 student for a ResNet-18 teacher; pooled width 256.
resnet18w05_cifar = dict(
    type='ResNet_CIFAR', depth=18, stem_channels=32, base_channels=32,
    norm_cfg=dict(type='BN'), zero_init_residual=False)
resnet18w05_cifar_channels = 256
