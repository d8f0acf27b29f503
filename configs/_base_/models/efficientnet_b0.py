# EfficientNet-B0 (Tan & Le, 2019); 1280-wide final feature map.
efficientnet_b0 = dict(type='EfficientNet', arch='b0')
efficientnet_b0_channels = 1280
