# CRD on CIFAR-10: the supervised ResNet-18 of
# resnet18-cifar_1xb64-240e_cifar10.py -> a half-width ResNet-18, with
# RepDistiller's CRD weights (-r 1 -a 0 -b 0.8: CE + 0.8 CRD), K = 16384
# class-aware negatives (--mode exact), T 0.07, bank momentum 0.5, 128-d
# embeddings, and its recipe (SGD lr 0.05, batch 64, 240 epochs). Teacher and
# student see the same augmented image.
# Teacher: --cfg-options model.teacher.checkpoint=work_dirs/<teacher run>/epoch_240.pth
_base_ = ['./resnet18w05-cifar_1xb64-240e_cifar10.py']

model = dict(
    _delete_=True,
    type='CRD',
    data_preprocessor=_base_.data_preprocessor,
    backbone=_base_.resnet18w05_cifar,
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10,
              in_channels=_base_.resnet18w05_cifar_channels,
              loss=dict(type='CrossEntropyLoss'), topk=(1, 5),
              init_cfg=None),  # PyTorch's Linear init, as RepDistiller
    teacher=dict(
        type='FrozenTeacher',
        backbone=_base_.resnet18_cifar,
        head=dict(type='LinearClsHead', num_classes=10,
                  in_channels=_base_.resnet18_cifar_channels),
        checkpoint='work_dirs/resnet18-cifar_1xb64-240e_cifar10/epoch_240.pth'),
    # Linear(d, 128) then L2 (RepDistiller crd/criterion.py Embed): no norm.
    student_embed=dict(type='LinearNeck',
                       in_channels=_base_.resnet18w05_cifar_channels,
                       out_channels=128, norm_cfg=None),
    teacher_embed=dict(type='LinearNeck',
                       in_channels=_base_.resnet18_cifar_channels,
                       out_channels=128, norm_cfg=None),
    num_negatives=16384,
    negatives='class',
    ce_weight=1.,
    kd_weight=0.,
    crd_weight=0.8)
# Sizes the two 50,000 x 128 banks from the training set, gives the labels.
custom_hooks = _base_.custom_hooks + [dict(type='MemoryBankHook')]
