# RepDistiller's CIFAR-100 recipe for teachers and students alike
# (HobbitLong/RepDistiller train_teacher.py, train_student.py): SGD lr 0.05 for
# batch 64 (0.01 for MobileNetV2 / ShuffleNet), momentum 0.9, weight decay
# 5e-4, 240 epochs, lr x0.1 at epochs 150, 180 and 210. Validation every 10
# epochs and after the last one.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[150, 180, 210],
         gamma=0.1)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=240, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=64)
