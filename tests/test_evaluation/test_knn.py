"""Weighted kNN: hand-computed scores, known clusters, a brute-force
reference."""
import math

import pytest
import torch

from mmseed.evaluation import (KNNAccuracy, weighted_knn_predict,
                               weighted_knn_scores)

# Four 2-D bank points and a query on the x axis; cosines with the query:
# b0 = (1, 0): 1, b1 = (0, 1): 0, b2 = (1, 1): 1/sqrt(2), b3 = (-1, 0): -1.
BANK = torch.tensor([[1., 0.], [0., 1.], [1., 1.], [-1., 0.]])
BANK_LABELS = torch.tensor([0, 1, 1, 2])
QUERY = torch.tensor([[2., 0.]])


@pytest.mark.parametrize('k, expected', [
    (1, [math.e, 0, 0]),
    (2, [math.e, math.exp(0.5**0.5), 0]),
    (3, [math.e, math.exp(0.5**0.5) + 1, 0]),
    (4, [math.e, math.exp(0.5**0.5) + 1, math.exp(-1)]),
    (10, [math.e, math.exp(0.5**0.5) + 1, math.exp(-1)]),  # clipped to 4
])
def test_hand_computed_scores(k, expected):
    """Votes are exp(cos / T) summed per class over the k nearest (T = 1)."""
    scores = weighted_knn_predict(BANK, BANK_LABELS, QUERY, 3, k=k,
                                  temperature=1.0)
    assert torch.allclose(scores, torch.tensor([expected]))


def test_more_neighbours_can_flip_the_prediction():
    # k = 2: e > e^0.707; k = 3 adds b1's vote of e^0 = 1 to class 1.
    predict = [
        weighted_knn_predict(BANK, BANK_LABELS, QUERY, 3, k=k,
                             temperature=1.0).argmax(1).item()
        for k in (2, 3)
    ]
    assert predict == [0, 1]


def brute_force_scores(bank, labels, queries, num_classes, k, temperature):
    """Weighted kNN written out plainly, in float64."""
    rows = []
    for q in queries.tolist():
        sims = []
        for b, label in zip(bank.tolist(), labels.tolist()):
            dot = sum(x * y for x, y in zip(q, b))
            norm = math.sqrt(sum(x * x for x in q) * sum(y * y for y in b))
            sims.append((dot / norm, label))
        sims.sort(key=lambda pair: -pair[0])
        row = [0.0] * num_classes
        for sim, label in sims[:k]:
            row[label] += math.exp(sim / temperature)
        rows.append(row)
    return torch.tensor(rows, dtype=torch.float64)


@pytest.fixture
def random_bank():
    gen = torch.Generator().manual_seed(0)
    bank = torch.randn(50, 8, generator=gen)
    labels = torch.randint(0, 6, (50, ), generator=gen)
    # Ties: an exact duplicate and a rescaled copy (same cosine), same label.
    bank = torch.cat([bank, bank[:3], 5 * bank[3:6]])
    labels = torch.cat([labels, labels[:3], labels[3:6]])
    queries = torch.cat([torch.randn(20, 8, generator=gen), bank[:3]])
    return bank, labels, queries


@pytest.mark.parametrize('k', [1, 5, 20, 56, 200])
@pytest.mark.parametrize('temperature', [0.07, 0.5])
def test_matches_brute_force(random_bank, k, temperature):
    bank, labels, queries = random_bank
    expected = brute_force_scores(bank, labels, queries, 6, k, temperature)
    scores = weighted_knn_predict(bank, labels, queries, 6, k=k,
                                  temperature=temperature, chunk_size=4)
    assert torch.allclose(scores.double(), expected, rtol=1e-4)


def test_several_k_and_chunk_sizes_agree(random_bank):
    bank, labels, queries = random_bank
    together = weighted_knn_scores(bank, labels, queries, 6, ks=(5, 20),
                                   chunk_size=1)
    for k in (5, 20):
        alone = weighted_knn_predict(bank, labels, queries, 6, k=k,
                                     chunk_size=1000)
        assert torch.allclose(together[k], alone, rtol=1e-5)


def test_high_temperature_is_a_majority_vote(random_bank):
    bank, labels, queries = random_bank
    scores = weighted_knn_predict(bank, labels, queries, 6, k=7,
                                  temperature=1e6)
    # Every weight is ~1: the scores count each class among the 7 nearest.
    assert torch.allclose(scores.sum(1), torch.full((len(queries), ), 7.),
                          rtol=1e-4)
    assert torch.allclose(scores, scores.round(), atol=1e-3)


@pytest.mark.parametrize('kwargs, message', [
    (dict(query_feats=torch.zeros(2, 3)), 'feature widths differ'),
    (dict(bank_labels=torch.tensor([0, 1, 1, 3])), r'must lie in \[0, 3\)'),
    (dict(bank_labels=torch.tensor([0, 1])), 'one label per bank feature'),
    (dict(k=0), 'k must be positive'),
    (dict(bank_feats=torch.zeros(4, 2, 1, 1)), 'pool feature maps first'),
])
def test_bad_input_is_a_clear_error(kwargs, message):
    args = dict(bank_feats=BANK, bank_labels=BANK_LABELS, query_feats=QUERY,
                num_classes=3)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        weighted_knn_predict(**args)


def clusters(per_class, num_classes=5, noise=0.01, seed=0):
    """Features around the one-hot centres of ``num_classes`` classes."""
    gen = torch.Generator().manual_seed(seed)
    labels = torch.arange(num_classes).repeat_interleave(per_class)
    feats = torch.eye(num_classes)[labels]
    return feats + noise * torch.randn(feats.shape, generator=gen), labels


def test_metric_on_known_clusters():
    """10 queries per class, 2 of them lying in the next class's cluster."""
    bank, bank_labels = clusters(30)
    queries, labels = clusters(10, seed=1)
    misplaced = torch.arange(len(labels)) % 10 < 2
    queries[misplaced] = torch.roll(queries, -10, dims=0)[misplaced]

    metric = KNNAccuracy(k=(20, 200))
    metric.set_bank(bank, bank_labels)
    metric.process(None, [
        dict(feat=f, gt_label=torch.tensor([y]))
        for f, y in zip(queries, labels)
    ])
    results = metric.evaluate(len(labels))
    # k = 20: all neighbours come from the query's cluster (30 per class), so
    # exactly the 8 of 10 well-placed queries per class are right, and the
    # misplaced ones get no vote for their class even in the top 5.
    # k = 200 is clipped to the 150 bank samples: every class gets a vote.
    assert results == {
        'knn/top1_k20': 80.0, 'knn/top5_k20': 80.0,
        'knn/top1_k200': 80.0, 'knn/top5_k200': 100.0
    }


def test_metric_skips_topk_beyond_the_classes():
    metric = KNNAccuracy(k=(2, ), topk=(1, 5))
    metric.set_bank(BANK, BANK_LABELS)
    metric.process(None, [dict(feat=QUERY[0], gt_label=torch.tensor([0]))])
    assert metric.evaluate(1) == {'knn/top1_k2': 100.0}


def test_metric_without_bank_says_how_to_get_one():
    metric = KNNAccuracy()
    metric.process(None, [dict(feat=QUERY[0], gt_label=torch.tensor([0]))])
    with pytest.raises(RuntimeError, match="type='KNNValLoop'"):
        metric.evaluate(1)
