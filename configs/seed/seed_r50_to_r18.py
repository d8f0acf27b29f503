# SEED: MoCo-v2 ResNet-50 teacher (200 epochs) -> ResNet-18 student on
# ImageNet, 200 epochs, total batch 256 (Fang et al., 2021, Table 1: ResNet-18
# linear top-1 52.5 with MoCo-v2 alone, 57.6 with SEED). The other SEED
# configs inherit this one and change the student (or teacher).
# Teacher weights: the official MoCo-v2 file (moco_v2_200ep_pretrain.pth.tar,
# facebookresearch/moco) or any format tools/model_converters/convert_teacher.py
# reads; set the path with --cfg-options model.teacher.checkpoint=PATH.
_base_ = [
    '../_base_/models/resnet50.py',
    '../_base_/models/resnet18.py',
    '../_base_/datasets/imagenet_seed.py',
    '../_base_/schedules/sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='SEED',
    queue_len=65536,
    feat_dim=128,
    data_preprocessor=_base_.data_preprocessor,
    backbone=_base_.resnet18,
    # Student head Linear(d, d)-ReLU-Linear(d, 128), d the backbone width.
    neck=dict(
        type='MoCoV2Neck',
        in_channels=_base_.resnet18_channels,
        hid_channels=_base_.resnet18_channels,
        out_channels=128,
        with_avg_pool=True),
    teacher=dict(
        type='FrozenTeacher',
        backbone=_base_.resnet50,
        neck=dict(
            type='MoCoV2Neck',
            in_channels=_base_.resnet50_channels,
            hid_channels=2048,
            out_channels=128,
            with_avg_pool=True),
        checkpoint='checkpoints/moco_v2_200ep_pretrain.pth.tar'),
    loss=dict(type='SEEDLoss', student_temp=0.2, teacher_temp=1e-4))

# 8 GPUs x 32 = 256 images per step.
train_dataloader = dict(batch_size=32)
# The official lr rule (jacobswan1/SEED, tools/utils.py adjust_learning_rate
# and main.py): lr 0.03 x global batch / 256 (auto_scale_lr), a linear warm-up
# over 5 epochs from 0.03, then cosine over all 200 epochs, set per epoch.
# (The official code scales the lr only when distributed; one process with a
# batch other than 256 would train at 0.03 there.)
param_scheduler = [
    dict(type='WarmupCosineLR', warmup=5, warmup_start_lr=0.03, T_max=200,
         by_epoch=True)
]
auto_scale_lr = dict(base_batch_size=256, enable=True)
