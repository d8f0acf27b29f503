# SEED: SimCLR ResNet-50 (200 epochs) -> MobileNetV3-Large, the official
# code's default pair (jacobswan1/SEED tools/opts.py: --teacher_ssl simclr,
# --distill simclr_200.pth, --student_arch mobilenetv3_large). The teacher's
# embedding is its projection head's normalised 128-d output
# (seed/architectures/simclr/simclr_resnet.py).
_base_ = ['./seed_r50_to_mbv3.py']

model = dict(
    teacher=dict(
        # fc = Linear(2048, 2048) - BatchNorm1d - ReLU - Linear(2048, 128),
        # biases on both Linears; the checkpoint's fc.0/fc.1/fc.3.
        neck=dict(
            _delete_=True,
            type='NonLinearNeck',
            in_channels=_base_.resnet50_channels,
            hid_channels=2048,
            out_channels=128,
            num_layers=2,
            with_bias=True,
            with_last_bias=True,
            with_last_bn=False,
            with_avg_pool=True,
            norm_cfg=dict(type='BN1d')),
        checkpoint='checkpoints/simclr_200.pth'))
