"""scikit-learn's DecisionTreeClassifier on breast_cancer, for tests/reference_tree.rs: the
data, a seeded 70/30 split both sides use, and the held-out accuracy per depth; and again with
frequency weights 1 + (row mod 4) in the fit and the score. Per depth also the tree's nodes in
preorder (the feature split on, -2 at a leaf) and its feature_importances_, to compare where
both libraries grew the same tree. Prints JSON."""
import json
import sys

import numpy as np

from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

data = load_breast_cancer()
idx = list(range(len(data.target)))
train, test = train_test_split(idx, test_size=0.3, random_state=0, stratify=data.target)
accuracy = {}
trees = {"unweighted": {}, "weighted": {}}


def keep(kind, depth, model):
    trees[kind][depth] = {"features": [int(f) for f in model.tree_.feature], "importance": [float(v) for v in model.feature_importances_]}


for depth in [1, 2, 3, 4, 5]:
    model = DecisionTreeClassifier(max_depth=depth, criterion="gini", random_state=0)
    model.fit(data.data[train], data.target[train])
    accuracy[depth] = float(model.score(data.data[test], data.target[test]))
    keep("unweighted", depth, model)
weights = [1.0 + (i % 4) for i in idx]
weighted = {}
for depth in [1, 2, 3, 4, 5]:
    model = DecisionTreeClassifier(max_depth=depth, criterion="gini", random_state=0)
    model.fit(data.data[train], data.target[train], sample_weight=[weights[i] for i in train])
    weighted[depth] = float(model.score(data.data[test], data.target[test], sample_weight=[weights[i] for i in test]))
    keep("weighted", depth, model)
# Feature importances on a tree both libraries grow alike: clear splits (no near ties) and no
# label noise. (Breast cancer's trees differ from depth 2: linfa adds weights in f32 and near
# ties go either way.) linfa prunes splits whose subtrees all predict one class; scikit-learn
# keeps them. So the reference tree is scikit-learn's with those splits removed likewise, and its
# importances are the mean decrease in impurity over the splits left, from scikit-learn's own
# node impurities and weighted sizes. With nothing removed that is feature_importances_, which
# is checked below.
rng = np.random.default_rng(7)
xs = rng.random((3000, 4))
ys = ((xs[:, 0] > 0.1) & (xs[:, 1] > 0.15) & (xs[:, 2] > 0.2)).astype(int)
ws = 1.0 + (np.arange(3000) % 3)


def pruned(tree, prune=True):
    """Preorder features (-2 at a leaf) and importances of `tree` pruned as linfa prunes (or
    whole), and whether nothing was pruned."""
    left, right, value = tree.children_left, tree.children_right, tree.value

    def collapse(node):  # the class a subtree always predicts, or None; marks splits kept
        if left[node] == -1:
            return int(np.argmax(value[node][0]))
        a, b = collapse(left[node]), collapse(right[node])
        if prune and a is not None and a == b:
            return a
        kept.add(node)
        return None

    kept = set()
    collapse(0)
    features, decrease = [], np.zeros(tree.n_features)
    n, imp = tree.weighted_n_node_samples, tree.impurity
    stack = [0]
    while stack:
        node = stack.pop()
        if node not in kept:
            features.append(-2)
            continue
        features.append(int(tree.feature[node]))
        l, r = left[node], right[node]
        decrease[tree.feature[node]] += n[node] * imp[node] - n[l] * imp[l] - n[r] * imp[r]
        stack += [r, l]
    return features, (decrease / decrease.sum()).tolist(), len(kept) == tree.node_count // 2


synthetic = {"x": xs.tolist(), "y": ys.tolist(), "weights": ws.tolist(), "unweighted": {}, "weighted": {}}
for depth in [1, 2, 3, 4]:
    for kind, weight in [("unweighted", None), ("weighted", ws)]:
        model = DecisionTreeClassifier(max_depth=depth, criterion="gini", random_state=0).fit(xs, ys, sample_weight=weight)
        features, importance, whole = pruned(model.tree_)
        if whole:
            assert np.allclose(importance, model.feature_importances_, atol=1e-12), (importance, model.feature_importances_)
        synthetic[kind][depth] = {"features": features, "importance": importance}
# The formula is scikit-learn's on an unpruned tree (breast cancer's, depth 5).
big = DecisionTreeClassifier(max_depth=5, criterion="gini", random_state=0).fit(data.data, data.target)
assert np.allclose(pruned(big.tree_, prune=False)[1], big.feature_importances_, atol=1e-12)
json.dump({"synthetic": synthetic, "x": data.data.tolist(), "y": data.target.tolist(), "train": train, "test": test, "accuracy": accuracy, "weights": weights, "weighted_accuracy": weighted, "trees": trees}, sys.stdout)
