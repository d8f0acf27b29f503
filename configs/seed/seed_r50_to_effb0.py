# SEED: MoCo-v2 ResNet-50 -> EfficientNet-B0 (Fang et al., 2021, Table 1).
_base_ = ['./seed_r50_to_r18.py', '../_base_/models/efficientnet_b0.py']

model = dict(
    # The official student (jacobswan1/SEED, seed/architectures/
    # efficientnet, EfficientNet-PyTorch 0.7.0): BatchNorm momentum 0.01
    # (TF's 0.99) and eps 1e-3, drop-connect 0.2. mmpretrain scales the
    # drop-path rate linearly to 0.2 at the last block; the official code to
    # 0.2 x (n - 1) / n.
    backbone=dict(_delete_=True, **_base_.efficientnet_b0,
                  norm_cfg=dict(type='BN', eps=1e-3, momentum=0.01),
                  drop_path_rate=0.2),
    # Dropout 0.2 on the pooled feature, then SEED's MLP (builder.py,
    # --student_mlp): 1,803,648 parameters.
    neck=dict(
        _delete_=True,
        type='MLPNeck',
        in_channels=_base_.efficientnet_b0_channels,
        layers=[
            dict(dropout=0.2),
            dict(linear=1280), dict(act='ReLU'), dict(linear=128),
        ]))
