# Label-free CRD on CIFAR-10, beside SEED: the same MoCo-v2 ResNet-18 teacher
# (configs/mocov2/mocov2_r18-cifar_1xb256-200e_cifar10.py), half-width
# ResNet-18 student, data (one MoCo-v2-augmented view seen by both), schedule
# and kNN evaluation as configs/seed/seed_r18-cifar_to_r18w05-cifar_cifar10.py;
# only the loss differs: CRD alone (no classifier, no labels), uniform
# negatives, on the teacher's pooled backbone feature (CRD distils the
# penultimate representation, so the teacher's MoCo head is loaded, unused).
# Teacher: --cfg-options model.teacher.checkpoint=work_dirs/<teacher run>/epoch_200.pth
_base_ = ['../seed/seed_r18-cifar_to_r18w05-cifar_cifar10.py']

model = dict(
    _delete_=True,
    type='CRD',
    data_preprocessor=_base_.data_preprocessor,
    backbone=_base_.resnet18w05_cifar,
    neck=dict(type='GlobalAveragePooling'),
    head=None,
    # SEED's teacher as it is: the MoCo-v2 checkpoint with its projection
    # head, of which CRD reads the pooled backbone feature.
    teacher=_base_.model.teacher,
    student_embed=dict(type='LinearNeck',
                       in_channels=_base_.resnet18w05_cifar_channels,
                       out_channels=128, norm_cfg=None),
    teacher_embed=dict(type='LinearNeck',
                       in_channels=_base_.resnet18_cifar_channels,
                       out_channels=128, norm_cfg=None),
    num_negatives=16384,
    negatives='uniform',
    crd_weight=1.)
custom_hooks = _base_.custom_hooks + [dict(type='MemoryBankHook')]
