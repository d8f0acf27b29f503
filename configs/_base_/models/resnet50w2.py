# ResNet-50x2 (twice the width in every layer, as in SwAV / SimCLR, Caron et
# al., 2020); pooled feature width 4096.
resnet50w2 = dict(
    type='ResNet', depth=50, stem_channels=128, base_channels=128,
    norm_cfg=dict(type='BN'), zero_init_residual=False)
resnet50w2_channels = 4096
