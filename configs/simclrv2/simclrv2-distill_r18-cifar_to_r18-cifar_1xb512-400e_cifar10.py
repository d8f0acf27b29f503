# SimCLRv2 step 3 as self-distillation: the student has the teacher's
# architecture (ResNet-18, the head's first layer, the classifier), trained
# from scratch on the teacher's soft labels.
_base_ = ['./simclrv2-distill_r18-cifar_to_r18w05-cifar_1xb512-400e_cifar10.py']

model = dict(
    backbone=_base_.teacher.backbone,
    neck=dict(_delete_=True, **_base_.teacher.neck),
    head=dict(in_channels=_base_.resnet18_cifar_channels))
