"""Semi-supervised fine-tuning through tools/benchmarks/semi.sh on a real
CIFAR-10 slice: the label subset is drawn before training, the whole
network trains on it."""
import shutil

import torch

from conftest import load_tool
from test_linear_eval import (R18W05, load, run_script,
                              save_seed_like_checkpoint, tiny)

SEMI_R18W05 = ('configs/benchmarks/semi_supervised/'
               'resnet18w05-cifar_1xb256-ft-coslr-30e_cifar10-10pct.py')
subsets = load_tool('tools/dataset_converters/make_label_subset.py')


def test_fine_tune_on_a_drawn_subset_changes_the_backbone(cifar_slice,
                                                          tmp_path):
    data = tmp_path / 'cifar10'
    shutil.copytree(cifar_slice, data)
    checkpoint = tmp_path / 'seed.pth'
    state = save_seed_like_checkpoint(checkpoint, R18W05)
    work = tmp_path / 'work'
    # Half of the slice's 8 images a class, seed 0: drawn by the preflight.
    result = run_script('tools/benchmarks/semi.sh', SEMI_R18W05, checkpoint,
                        *tiny(batch=40),
                        'train_dataloader.dataset.ann_file='
                        'meta/train_50pct_seed0.txt',
                        work_dir=work, data_root=data)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    subset = data / 'meta' / 'train_50pct_seed0.txt'
    assert f'wrote {subset}: 40 labelled images' in out
    lines = subset.read_text().splitlines()
    labels = [int(line.rsplit(' ', 1)[1]) for line in lines]
    assert sorted(labels) == [c for c in range(10) for _ in range(4)]
    _, images = subsets.list_split(data / 'train')
    assert subsets.sample_subset(images, fraction=0.5, seed=0) == [
        (line.rsplit(' ', 1)[0], label) for line, label in zip(lines, labels)]
    # 40 labelled images, batch 40: one step, then the whole test split.
    assert 'Epoch(train) [1][1/1]' in out
    assert 'Epoch(val) [1][1/1]' in out and 'accuracy/top1' in out
    assert 'lr: 5.0000e-02' in out  # SimCLR's 0.05 x 256/256
    trained = load(work / 'epoch_1.pth')['state_dict']
    # Fine-tuning: the weights and the BatchNorm statistics move.
    for key in ('backbone.conv1.weight', 'backbone.layer4.1.conv2.weight',
                'backbone.layer1.0.bn1.running_mean'):
        assert not torch.equal(trained[key], state[key]), key
    assert trained['backbone.layer1.0.bn1.num_batches_tracked'] == 1001


def test_subset_naming_missing_images_stops_before_training(cifar_slice,
                                                           tmp_path):
    data = tmp_path / 'cifar10'
    shutil.copytree(cifar_slice, data)
    checkpoint = tmp_path / 'seed.pth'
    save_seed_like_checkpoint(checkpoint, R18W05)
    subset, _ = subsets.make_subset_file(data / 'train', per_class=2, seed=0,
                                         out=data / 'meta' / 'sub.txt')
    gone = subset.read_text().splitlines()[0].rsplit(' ', 1)[0]
    (data / 'train' / gone).unlink()
    result = run_script('tools/benchmarks/semi.sh', SEMI_R18W05, checkpoint,
                        '--cfg-options',
                        'train_dataloader.dataset.ann_file=meta/sub.txt',
                        work_dir=tmp_path / 'w', data_root=data)
    assert result.returncode == 2
    assert 'Traceback' not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f'error: annotation file {subset} '
                           '(train_dataloader.dataset.ann_file) names 1 of 20 '
                           'images')
    assert gone in last
    assert not (tmp_path / 'w').exists()


def test_labels_that_contradict_the_class_folders_are_refused(cifar_slice,
                                                               tmp_path):
    data = tmp_path / 'cifar10'
    shutil.copytree(cifar_slice, data)
    checkpoint = tmp_path / 'seed.pth'
    save_seed_like_checkpoint(checkpoint, R18W05)
    (data / 'meta').mkdir()
    # Labels of a class order other than CustomDataset's (sorted folders).
    (data / 'meta' / 'sub.txt').write_text(
        'airplane/0000.jpg 1\nautomobile/0000.jpg 0\n')
    result = run_script('tools/benchmarks/semi.sh', SEMI_R18W05, checkpoint,
                        '--cfg-options',
                        'train_dataloader.dataset.ann_file=meta/sub.txt',
                        work_dir=tmp_path / 'w', data_root=data)
    assert result.returncode == 2
    assert 'Traceback' not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert 'has 2 labels that do not match the 10 class folders' in last
    assert 'airplane/0000.jpg 1' in last


def test_missing_imagenet_subset_says_where_to_get_it(tmp_path):
    (tmp_path / 'imagenet' / 'train' / 'n01440764').mkdir(parents=True)
    (tmp_path / 'imagenet' / 'train' / 'n01440764' / 'a.JPEG').touch()
    checkpoint = tmp_path / 'seed.pth'
    save_seed_like_checkpoint(
        checkpoint, dict(type='ResNet', depth=18))
    result = run_script(
        'tools/benchmarks/semi.sh', 'configs/benchmarks/semi_supervised/'
        'resnet18_8xb32-ft-coslr-60e_in1k-1pct.py', checkpoint,
        work_dir=tmp_path / 'w', data_root=tmp_path / 'imagenet')
    assert result.returncode == 2
    assert 'Traceback' not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert 'annotation file not found' in last
    assert 'make_label_subset.py from-list' in last
    assert subsets.SIMCLR_SUBSETS_URL in last
