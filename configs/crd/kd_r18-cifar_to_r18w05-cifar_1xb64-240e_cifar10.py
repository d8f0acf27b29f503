# The KD twin of the CRD student (Hinton et al., 2015), RepDistiller's KD run
# (-r 0.1 -a 0.9 -b 0, --kd_T 4): 0.1 CE + 0.9 T^2 H(P_T, P_S) at T = 4, same
# teacher, student, recipe and budget. SimCLRv2Distiller computes exactly
# this loss (alpha 0.9, t_squared); its soft cross-entropy differs from
# RepDistiller's DistillKL only by the teacher's entropy, a constant, so the
# gradients are the same.
_base_ = ['./crd_r18-cifar_to_r18w05-cifar_1xb64-240e_cifar10.py']

model = dict(
    _delete_=True,
    type='SimCLRv2Distiller',
    data_preprocessor=_base_.model.data_preprocessor,
    backbone=_base_.model.backbone,
    neck=_base_.model.neck,
    head=_base_.model.head,
    teacher=_base_.model.teacher,
    temperature=4.,
    alpha=0.9,
    t_squared=True)
# (The base's MemoryBankHook finds no banks in this model and does nothing.)
